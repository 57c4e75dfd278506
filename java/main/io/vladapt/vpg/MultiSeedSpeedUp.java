package io.vladapt.vpg;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * VPGTrans against training from scratch over several seeds (VPG init, data order, dropout), on one
 * metric. Per seed: Table 3's speed-up ({@link SpeedUp}, keyed on where one noisy TFS curve peaks),
 * and two measures that a single lucky or unlucky epoch moves less:
 * <ul>
 *   <li>{@link Reach}: the first epoch at which each run reaches {@code fraction} (0.95) of TFS's best,
 *       and their ratio e_tfs / e_vt;</li>
 *   <li>the area ratio: the sum of VPGTrans' per-epoch scores over the sum of TFS's, over the epochs both
 *       curves have (a VPGTrans run stopped once it beat TFS is compared on its own epochs only).</li>
 * </ul>
 * Medians are taken over seeds with "never" ranked below every number; with an even count the median is
 * the mean of the two middle values, or "never" when the lower one is never.
 *
 * @param fraction the share of TFS's best that {@link Reach} asks for (0.95)
 * @param seeds    one entry per seed, in the order given
 */
public record MultiSeedSpeedUp(double fraction, List<Seed> seeds) {
    /** The default target of {@link Reach}: 95% of TFS's best. */
    public static final double REACH = 0.95;

    /** Both curves of one seed, per-epoch scores (index 0 = after epoch 1; VPGTrans' stage 1 is epoch 1). */
    public record Curves(long seed, List<Double> tfs, List<Double> vpgTrans) {}

    /**
     * Epochs to reach a target: {@code target} = fraction x TFS's best; e_tfs, e_vt the first 1-based epochs whose
     * score is at least the target (e_vt -1: never).
     */
    public record Reach(double target, int tfsEpoch, int vtEpoch) {
        public static Reach of(List<Double> tfs, List<Double> vpgTrans, double fraction) {
            if (tfs.isEmpty()) throw new IllegalArgumentException("the TFS curve is empty");
            if (!(fraction > 0 && fraction <= 1)) throw new IllegalArgumentException("the reach fraction must be in (0, 1], got " + fraction);
            double best = tfs.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
            double target = fraction * best;
            return new Reach(target, first(tfs, target), first(vpgTrans, target));
        }

        private static int first(List<Double> xs, double target) {
            for (int i = 0; i < xs.size(); i++) if (xs.get(i) >= target) return i + 1;
            return -1;
        }

        public boolean never() {
            return vtEpoch < 0;
        }

        /** e_tfs / e_vt; NaN for never. */
        public double ratio() {
            return never() ? Double.NaN : (double) tfsEpoch / vtEpoch;
        }

        public String label() {
            return SpeedUp.label(ratio());
        }
    }

    /**
     * One seed's measures.
     *
     * @param areaRatio         sum of VPGTrans' scores / sum of TFS's over the first {@code areaEpochs} epochs (NaN if TFS's sum is 0)
     * @param tfsStillImproving TFS's best came in the last fifth of its epochs (the budget did not end on a plateau)
     */
    public record Seed(long seed, SpeedUp table3, Reach reach, double areaRatio, int areaEpochs, boolean tfsStillImproving) {}

    /** The measures of every seed's pair of curves, with the default 95% target. */
    public static MultiSeedSpeedUp of(List<Curves> curves) {
        return of(curves, REACH);
    }

    public static MultiSeedSpeedUp of(List<Curves> curves, double fraction) {
        if (curves.isEmpty()) throw new IllegalArgumentException("no seeds to summarise");
        List<Seed> out = new ArrayList<>();
        for (Curves c : curves) {
            if (c.vpgTrans().isEmpty()) throw new IllegalArgumentException("seed " + c.seed() + ": the VPGTrans curve is empty");
            SpeedUp t3 = SpeedUp.of(c.tfs(), c.vpgTrans());
            int n = Math.min(c.tfs().size(), c.vpgTrans().size());
            double sv = 0, st = 0;
            for (int i = 0; i < n; i++) {
                sv += c.vpgTrans().get(i);
                st += c.tfs().get(i);
            }
            boolean improving = t3.tfsEpoch() > 0.8 * c.tfs().size();
            out.add(new Seed(c.seed(), t3, Reach.of(c.tfs(), c.vpgTrans(), fraction), st == 0 ? Double.NaN : sv / st, n, improving));
        }
        return new MultiSeedSpeedUp(fraction, List.copyOf(out));
    }

    /** Median of the per-seed Table 3 speed-ups (NaN: never). */
    public double medianTable3() {
        return median(seeds.stream().map(s -> s.table3().ratio()).toList());
    }

    /** Median of the per-seed reach ratios (NaN: never). */
    public double medianReach() {
        return median(seeds.stream().map(s -> s.reach().ratio()).toList());
    }

    /** Median of the per-seed area ratios. */
    public double medianArea() {
        return median(seeds.stream().map(Seed::areaRatio).toList());
    }

    /** The smallest per-seed Table 3 speed-up (NaN if any seed never exceeds TFS's best). */
    public double worstTable3() {
        return seeds.stream().map(s -> s.table3().ratio()).min(NEVER_FIRST).orElseThrow();
    }

    /** NaN (never) first, then ascending. */
    private static final Comparator<Double> NEVER_FIRST = (a, b) -> a.isNaN() ? (b.isNaN() ? 0 : -1) : b.isNaN() ? 1 : Double.compare(a, b);

    /** The median with NaN (never) ranked lowest; an even count averages the middle two, or gives NaN if the lower is NaN. */
    public static double median(List<Double> xs) {
        if (xs.isEmpty()) throw new IllegalArgumentException("median of nothing");
        List<Double> s = new ArrayList<>(xs);
        s.sort(NEVER_FIRST);
        int n = s.size();
        if (n % 2 == 1) return s.get(n / 2);
        double lo = s.get(n / 2 - 1), hi = s.get(n / 2);
        return Double.isNaN(lo) ? Double.NaN : (lo + hi) / 2;
    }

    /**
     * The summary as text lines: the medians first, then one line per seed (Table 3, the reach measure, the area ratio).
     *
     * @param metric e.g. "captions (CIDEr-D)"
     */
    public List<String> lines(String metric) {
        List<String> out = new ArrayList<>();
        int pct = (int) Math.round(100 * fraction);
        out.add(String.format("%s over %d seed%s: median Table 3 %s (worst %s), median epochs-to-%d%% %s, median area ratio %.3f", metric,
                seeds.size(), seeds.size() == 1 ? "" : "s", SpeedUp.label(medianTable3()), SpeedUp.label(worstTable3()), pct,
                SpeedUp.label(medianReach()), medianArea()));
        for (Seed s : seeds) {
            SpeedUp t = s.table3();
            Reach r = s.reach();
            out.add(String.format("  seed %d: Table 3 %s (TFS best %.2f at epoch %d, VPGTrans exceeds it at %s); %d%% of it (%.2f): TFS epoch %d,"
                    + " VPGTrans %s: %s; area ratio %.3f over %d epochs%s", s.seed(), t.label(), t.best(), t.tfsEpoch(),
                    t.never() ? "no epoch" : "epoch " + t.vtEpoch(), pct, r.target(), r.tfsEpoch(), r.never() ? "never" : "epoch " + r.vtEpoch(),
                    r.label(), s.areaRatio(), s.areaEpochs(), s.tfsStillImproving() ? "" : "; TFS peaked before the last fifth of its budget"));
        }
        return out;
    }
}
