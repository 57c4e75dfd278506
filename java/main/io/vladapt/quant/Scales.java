package io.vladapt.quant;

import io.vladapt.ext.OpCheck;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Scale checks: a NaN, infinite, zero or negative scale would silently poison every output it touches. */
final class Scales {
    private Scales() {}

    /** @param groups scales per row: the tensor is read as (rows, groups) */
    static void check(String what, Tensor scale, long groups) {
        Tensor f = scale.to(ScalarType.Float).reshape(-1);
        Tensor bad = torch.isfinite(f).logical_not().logical_or(f.le(new Scalar(0.0)));
        if (!bad.any().item_bool()) return;
        long i = bad.to(ScalarType.Int).argmax().item_long();
        float v = f.get(i).item_float();
        String kind = Float.isNaN(v) ? "NaN" : Float.isInfinite(v) ? "infinite" : v == 0 ? "zero" : "negative (" + v + ")";
        String at = groups == 1 ? "row " + i : "row " + (i / groups) + ", group " + (i % groups);
        throw new IllegalArgumentException(what + " " + OpCheck.describe(scale) + ": the scale at " + at + " is " + kind
                + " (scales must be finite and positive; the file is corrupt or was not written by a quantiser)");
    }
}
