package io.vladapt.vpg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Table 3's speed-up on hand-made curves. */
class SpeedUpTest {
    @Test
    void bestOfScratchOverFirstEpochThatExceedsIt() {
        // TFS best 0.8 first reached at epoch 8 (a later tie does not move it); VPGTrans exceeds 0.8 at epoch 2
        SpeedUp s = SpeedUp.of(List.of(0.1, 0.3, 0.5, 0.6, 0.7, 0.75, 0.78, 0.8, 0.8, 0.79), List.of(0.7, 0.81, 0.9));
        assertEquals(0.8, s.best());
        assertEquals(8, s.tfsEpoch());
        assertEquals(2, s.vtEpoch());
        assertEquals(4.0, s.ratio());
        assertEquals("4.0x", s.label());
    }

    @Test
    void equalingIsNotExceeding() {
        SpeedUp s = SpeedUp.of(List.of(0.2, 0.5), List.of(0.5, 0.5, 0.49));
        assertTrue(s.never());
        assertEquals("never", s.label());
        assertTrue(Double.isNaN(s.ratio()));
    }

    @Test
    void stageOneAloneCanWin() {
        SpeedUp s = SpeedUp.of(List.of(0.2, 0.4, 0.6), List.of(0.61));
        assertEquals(1, s.vtEpoch());
        assertEquals(3.0, s.ratio());
    }

    @Test
    void aPeakThatComesEarlyGivesSmallSpeedUps() {
        SpeedUp s = SpeedUp.of(List.of(0.9, 0.5, 0.4), List.of(0.1, 0.95));
        assertEquals(1, s.tfsEpoch());
        assertEquals(0.5, s.ratio());
    }
}
