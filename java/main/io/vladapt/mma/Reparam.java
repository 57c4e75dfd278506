package io.vladapt.mma;

import io.vladapt.ext.OpCheck;
import io.vladapt.ext.VlOps;
import io.vladapt.nn.LinearWeights;
import org.bytedeco.pytorch.Tensor;

/**
 * Re-parameterisation: an adapter with fixed routing is a linear map x -> (I + M A) x + (M A_b + c),
 * so a projection W that consumes its output can absorb it: W' = W + (W M) A, b' = b + W (M A_b + c),
 * with M = s (w0 B + w1 D) (dense) and c = s (w0 B_b + w1 D_b). Inference with W' equals
 * adapter-then-projection with no adapter cost. Merging is done in float32 (float64 for float64
 * weights) and rounded once to W's dtype. Records no graph.
 */
public final class Reparam {
    private Reparam() {}

    /** Folds an MM-Adapter, routed by {@code route} (2) (one modality), into the projection W (o, d). */
    public static LinearWeights merge(LinearWeights proj, MmAdapterWeights w, Tensor route, AdapterSettings s) {
        OpCheck c = check("Reparam.merge", proj, w.aW(), w.aB(), s);
        AdapterChecks.up(c, "B", w.bW(), w.bB());
        AdapterChecks.up(c, "D", w.dW(), w.dB());
        AdapterChecks.groups(c, s.groups());
        c.tensor("route", route, "2");
        return run(c, proj, w.aW(), w.aB(), w.bW(), w.bB(), w.dW(), w.dB(), route, s);
    }

    /** Folds a RepAdapter into the projection W (o, d). */
    public static LinearWeights merge(LinearWeights proj, RepAdapterWeights w, AdapterSettings s) {
        OpCheck c = check("Reparam.merge", proj, w.aW(), w.aB(), s);
        AdapterChecks.up(c, "U", w.uW(), w.uB());
        AdapterChecks.groups(c, s.groups());
        return run(c, proj, w.aW(), w.aB(), w.uW(), w.uB(), null, null, null, s);
    }

    private static OpCheck check(String op, LinearWeights proj, Tensor aW, Tensor aB, AdapterSettings s) {
        OpCheck c = new OpCheck(op).allowFloat32Masters();
        c.tensor("W", proj.weight(), "o", "d");
        c.optional("W_b", proj.bias(), "o");
        AdapterChecks.down(c, aW, aB);
        return c;
    }

    private static LinearWeights run(OpCheck c, LinearWeights proj, Tensor aW, Tensor aB, Tensor bW, Tensor bB,
                                     Tensor dW, Tensor dB, Tensor route, AdapterSettings s) {
        Tensor outW = new Tensor(), outB = new Tensor();
        c.call(() -> VlOps.vl_reparam_merge(outW, outB, proj.weight(), proj.bias(), aW, aB, bW, bB, dW, dB, route,
                s.groups(), s.scale()));
        return new LinearWeights(outW, outB);
    }
}
