package io.vladapt.nn;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Attention masks for scaled_dot_product_attention: bool, true = may attend. */
public final class Masks {
    private Masks() {}

    /**
     * (B, 1, T, Tk) for T queries that follow {@code past} cached positions: a query attends to keys
     * at or before its own position that are valid (not padding). Every query also sees itself, so
     * no row is empty (an all-masked row would make NaNs that padding then carries into valid rows).
     *
     * @param keyValid (B, Tk) bool, Tk = past + T
     */
    public static Tensor causal(Tensor keyValid, long t, long past) {
        long tk = keyValid.size(1);
        Tensor q = torch.arange(new Scalar(past), new Scalar(past + t), Tensors.options(ScalarType.Long)).unsqueeze(1);
        Tensor k = torch.arange(new Scalar(tk), Tensors.options(ScalarType.Long)).unsqueeze(0);
        Tensor allowed = k.le(q).unsqueeze(0).logical_and(keyValid.unsqueeze(1));   // (B, T, Tk)
        return allowed.logical_or(k.eq(q).unsqueeze(0)).unsqueeze(1);                // (B, 1, T, Tk)
    }

    /**
     * (B, 1, L, L) for a sequence whose position 0 holds LaVIN's modality token: causal over valid keys,
     * and no row but row 0 may attend to column 0 (the token only feeds the routers).
     */
    public static Tensor modalityCausal(Tensor keyValid) {
        long l = keyValid.size(1);
        Tensor m = causal(keyValid, l, 0);                                           // (B, 1, L, L)
        Tensor pos = torch.arange(new Scalar(l), Tensors.options(ScalarType.Long));
        Tensor hidden = pos.view(1, l).eq(new Scalar(0)).logical_and(pos.view(l, 1).gt(new Scalar(0)));  // (L, L)
        return m.logical_and(hidden.logical_not());
    }

    /** RoPE positions for left-padded rows: position 0 at each row's first valid token. (B, T) int64. */
    public static Tensor positions(Tensor keyValid) {
        Tensor pos = keyValid.to(ScalarType.Long).cumsum(1).sub(new Scalar(1));
        return pos.clamp_min(new Scalar(0));
    }
}
