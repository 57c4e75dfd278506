package io.vladapt.vpg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The multi-seed speed-up summary on hand-made curves: per-seed measures, medians, and "never". */
class MultiSeedSpeedUpTest {
    static final List<Double> TFS = List.of(10.0, 40.0, 60.0, 70.0, 76.0, 80.0, 84.0, 86.0, 88.0, 90.0);

    static MultiSeedSpeedUp.Curves seed(long s, List<Double> tfs, Double... vt) {
        return new MultiSeedSpeedUp.Curves(s, tfs, Arrays.asList(vt));
    }

    @Test
    void perSeedMeasuresOnOneCurve() {
        // TFS best 90 at epoch 10, 95% of it = 85.5 first reached at epoch 8; VPGTrans: 85.5 at epoch 2, above 90 at epoch 4
        MultiSeedSpeedUp m = MultiSeedSpeedUp.of(List.of(seed(7, TFS, 50.0, 86.0, 89.0, 91.0)));
        MultiSeedSpeedUp.Seed s = m.seeds().get(0);
        assertEquals(7, s.seed());
        assertEquals(10, s.table3().tfsEpoch());
        assertEquals(4, s.table3().vtEpoch());
        assertEquals(2.5, s.table3().ratio());
        assertEquals(85.5, s.reach().target(), 1e-12);
        assertEquals(8, s.reach().tfsEpoch());
        assertEquals(2, s.reach().vtEpoch());
        assertEquals(4.0, s.reach().ratio());
        assertEquals("4.0x", s.reach().label());
        // areas over the 4 epochs both have: (50 + 86 + 89 + 91) / (10 + 40 + 60 + 70)
        assertEquals(4, s.areaEpochs());
        assertEquals(316.0 / 180.0, s.areaRatio(), 1e-12);
        assertTrue(s.tfsStillImproving(), "TFS's best came in its last epoch");
        assertEquals(2.5, m.medianTable3());
    }

    @Test
    void mediansOverSeedsRankNeverLowest() {
        MultiSeedSpeedUp m = MultiSeedSpeedUp.of(List.of(
                seed(7, TFS, 91.0),                                 // Table 3: 10x; reach 8x; area 91 / 10
                seed(8, TFS, 50.0, 86.0, 89.0, 91.0),               // 2.5x; 4x
                seed(9, TFS, 50.0, 60.0, 70.0, 80.0, 85.0, 86.0)));  // never exceeds 90; reaches 85.5 at epoch 6: 8/6
        assertEquals(List.of(10.0, 2.5), m.seeds().stream().limit(2).map(s -> s.table3().ratio()).toList());
        assertTrue(m.seeds().get(2).table3().never());
        assertEquals("never", m.seeds().get(2).table3().label());
        // sorted: never, 2.5, 10 -> median 2.5; the worst seed is never
        assertEquals(2.5, m.medianTable3());
        assertTrue(Double.isNaN(m.worstTable3()));
        // reach: 8, 4, 8/6 -> median 4
        assertEquals(4.0, m.medianReach(), 1e-12);
        // area ratios: 9.1, 316/180, (50+60+70+80+85+86)/(10+40+60+70+76+80) -> median is the middle one
        double a3 = 431.0 / 336.0;
        assertEquals(316.0 / 180.0, m.medianArea(), 1e-12);
        assertEquals(a3, m.seeds().get(2).areaRatio(), 1e-12);
        List<String> lines = m.lines("captions (CIDEr-D)");
        assertEquals(4, lines.size());
        assertTrue(lines.get(0).contains("captions (CIDEr-D) over 3 seeds: median Table 3 2.5x (worst never)"), lines.get(0));
        assertTrue(lines.get(3).contains("seed 9: Table 3 never"), lines.get(3));
    }

    @Test
    void neverWhenTheTargetIsNotReached() {
        // VPGTrans stays below 95% of TFS's best: both Table 3 and reach are never, the median of one never is never
        MultiSeedSpeedUp m = MultiSeedSpeedUp.of(List.of(seed(1, TFS, 20.0, 30.0, 80.0)));
        MultiSeedSpeedUp.Seed s = m.seeds().get(0);
        assertTrue(s.table3().never());
        assertTrue(s.reach().never());
        assertTrue(Double.isNaN(s.reach().ratio()));
        assertEquals("never", s.reach().label());
        assertTrue(Double.isNaN(m.medianTable3()));
        assertTrue(Double.isNaN(m.medianReach()));
        assertEquals(130.0 / 110.0, s.areaRatio(), 1e-12);
    }

    @Test
    void evenCountsAverageTheMiddleUnlessTheLowerIsNever() {
        assertEquals(3.0, MultiSeedSpeedUp.median(List.of(4.0, 2.0)));
        assertTrue(Double.isNaN(MultiSeedSpeedUp.median(List.of(Double.NaN, 2.0))));
        assertEquals(3.0, MultiSeedSpeedUp.median(List.of(Double.NaN, 2.0, 4.0, 5.0)));
        assertTrue(Double.isNaN(MultiSeedSpeedUp.median(List.of(Double.NaN, Double.NaN, 2.0))));
    }

    @Test
    void aTfsCurveThatPeaksEarlyIsFlagged() {
        MultiSeedSpeedUp m = MultiSeedSpeedUp.of(List.of(seed(1, List.of(50.0, 80.0, 70.0, 72.0, 75.0), 90.0)));
        assertFalse(m.seeds().get(0).tfsStillImproving());
        assertTrue(m.lines("VQA").get(1).contains("TFS peaked before the last fifth"), m.lines("VQA").get(1));
    }

    @Test
    void emptyInputsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> MultiSeedSpeedUp.of(List.of()));
        assertThrows(IllegalArgumentException.class, () -> MultiSeedSpeedUp.of(List.of(seed(1, TFS))));
        assertThrows(IllegalArgumentException.class, () -> MultiSeedSpeedUp.Reach.of(TFS, TFS, 1.5));
    }
}
