package io.vladapt.vpg;

import java.util.List;

/**
 * VPGTrans' speed-up (the paper's Table 3): e_tfs = the epoch at which training from scratch reaches
 * its best score p; e_vt = the first epoch at which VPGTrans exceeds p (stage 1 counts as epoch 1);
 * speed-up = e_tfs / e_vt, or "never" when VPGTrans does not exceed p within its epochs.
 *
 * @param best       p, TFS's best score
 * @param tfsEpoch   e_tfs (1-based; the first epoch reaching p)
 * @param vtEpoch    e_vt (1-based), or -1 for never
 */
public record SpeedUp(double best, int tfsEpoch, int vtEpoch) {
    /** Curves are per-epoch scores, index 0 = after epoch 1. */
    public static SpeedUp of(List<Double> tfs, List<Double> vpgTrans) {
        if (tfs.isEmpty()) throw new IllegalArgumentException("the TFS curve is empty");
        int e = 0;
        for (int i = 1; i < tfs.size(); i++) if (tfs.get(i) > tfs.get(e)) e = i;
        double p = tfs.get(e);
        int vt = -1;
        for (int i = 0; i < vpgTrans.size(); i++) {
            if (vpgTrans.get(i) > p) {
                vt = i + 1;
                break;
            }
        }
        return new SpeedUp(p, e + 1, vt);
    }

    public boolean never() {
        return vtEpoch < 0;
    }

    /** e_tfs / e_vt; NaN for never. */
    public double ratio() {
        return never() ? Double.NaN : (double) tfsEpoch / vtEpoch;
    }

    /** "4.0x" or "never" (the paper's "-"). */
    public String label() {
        return label(ratio());
    }

    /** A speed-up ratio as "4.0x", NaN as "never". */
    public static String label(double ratio) {
        return Double.isNaN(ratio) ? "never" : String.format("%.1fx", ratio);
    }
}
