package io.vladapt.mma;

import io.vladapt.ext.OpCheck;
import io.vladapt.ext.VlOps;
import org.bytedeco.pytorch.Tensor;

/** RepAdapter: y = x + s * (U(dropout(A x + A_b)) + U_b), U grouped. Differentiable (C++ op). */
public final class RepAdapterOp {
    private RepAdapterOp() {}

    /** x (B, T, d) -> (B, T, d). */
    public static Tensor forward(Tensor x, RepAdapterWeights w, AdapterSettings s, boolean training) {
        OpCheck c = new OpCheck("RepAdapter.forward").allowFloat32Masters();
        c.tensor("x", x, "B", "T", "d");
        AdapterChecks.down(c, w.aW(), w.aB());
        AdapterChecks.up(c, "U", w.uW(), w.uB());
        AdapterChecks.groups(c, s.groups());
        Tensor out = new Tensor();
        c.call(() -> VlOps.vl_rep_adapter(out, x, w.aW(), w.aB(), w.uW(), w.uB(), s.groups(), s.scale(),
                s.dropout(), training ? 1 : 0));
        return out;
    }
}
