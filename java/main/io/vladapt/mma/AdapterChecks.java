package io.vladapt.mma;

import io.vladapt.ext.OpCheck;
import org.bytedeco.pytorch.Tensor;

/** Shape rules shared by the adapter ops: A (r, d), up-projections (d, k) with k = r / groups. */
final class AdapterChecks {
    private AdapterChecks() {}

    static void down(OpCheck c, Tensor aW, Tensor aB) {
        c.tensor("A_w", aW, "r", "d");
        c.tensor("A_b", aB, "r");
    }

    static void up(OpCheck c, String name, Tensor w, Tensor b) {
        c.tensor(name + "_w", w, "d", "k");
        c.tensor(name + "_b", b, "d");
    }

    static void groups(OpCheck c, long groups) {
        long r = c.dim("r"), k = c.dim("k"), d = c.dim("d");
        c.require(groups >= 1, () -> "groups must be >= 1, got " + groups);
        c.require(r % groups == 0, () -> "r = " + r + " (rows of A_w) is not divisible by groups = " + groups);
        c.require(d % groups == 0, () -> "d = " + d + " is not divisible by groups = " + groups);
        c.require(k * groups == r, () -> "up-projection weights have " + k + " columns but r / groups = "
                + r + " / " + groups + " = " + (r / groups));
    }
}
