package io.vladapt.mma;

import io.vladapt.ext.OpCheck;
import io.vladapt.ext.VlOps;
import org.bytedeco.pytorch.Tensor;

/**
 * The MM-Adapter (LaVIN's RepAdapter_Router) over the C++ ops:
 * w = softmax((R z + R_b) / temperature), h = dropout(A x + A_b),
 * y = x + s * (w0 * (B h + B_b) + w1 * (D h + D_b)).
 * x (B, T, d) are the normalised block inputs, z (B, d) each sample's modality-token state.
 */
public final class MmAdapterOp {
    private MmAdapterOp() {}

    /** Differentiable w.r.t. x, z and every weight (router included). Returns (B, T, d). */
    public static Tensor forward(Tensor x, Tensor z, MmAdapterWeights w, AdapterSettings s, boolean training) {
        OpCheck c = check("MmAdapter.forward", x, w, s);
        c.tensor("z", z, "B", "d");
        c.tensor("R_w", w.rW(), "2", "d");
        c.tensor("R_b", w.rB(), "2");
        Tensor out = new Tensor();
        c.call(() -> VlOps.vl_mm_adapter(out, x, z, w.aW(), w.aB(), w.bW(), w.bB(), w.dW(), w.dB(), w.rW(), w.rB(),
                s.groups(), s.scale(), s.temperature(), s.dropout(), training ? 1 : 0));
        return out;
    }

    /** Routing weights (B, 2) = softmax((R z + R_b) / temperature). Differentiable. */
    public static Tensor route(Tensor z, Tensor rW, Tensor rB, double temperature) {
        OpCheck c = new OpCheck("MmAdapter.route").allowFloat32Masters();
        c.tensor("z", z, "B", "d");
        c.tensor("R_w", rW, "2", "d");
        c.tensor("R_b", rB, "2");
        c.require(temperature > 0 && Double.isFinite(temperature), () -> "temperature must be positive, got " + temperature);
        Tensor out = new Tensor();
        c.call(() -> VlOps.vl_mm_router(out, z, rW, rB, temperature));
        return out;
    }

    /**
     * Inference with precomputed routing weights (B, 2) (generation computes them once per prompt):
     * a fused kernel for float32/float64 on CPU (and CUDA in GPU builds), records no graph.
     * Equals {@link #forward} in eval mode.
     */
    public static Tensor inferFused(Tensor x, Tensor route, MmAdapterWeights w, AdapterSettings s) {
        OpCheck c = check("MmAdapter.inferFused", x, w, s);
        c.tensor("route", route, "B", "2");
        Tensor out = new Tensor();
        c.call(() -> VlOps.vl_mm_adapter_infer(out, x, route, w.aW(), w.aB(), w.bW(), w.bB(), w.dW(), w.dB(),
                s.groups(), s.scale()));
        return out;
    }

    private static OpCheck check(String op, Tensor x, MmAdapterWeights w, AdapterSettings s) {
        OpCheck c = new OpCheck(op).allowFloat32Masters();
        c.tensor("x", x, "B", "T", "d");
        AdapterChecks.down(c, w.aW(), w.aB());
        AdapterChecks.up(c, "B", w.bW(), w.bB());
        AdapterChecks.up(c, "D", w.dW(), w.dB());
        AdapterChecks.groups(c, s.groups());
        return c;
    }
}
