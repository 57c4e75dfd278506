package io.vladapt.nn;

import io.vladapt.ext.OpCheck;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Scaled dot-product attention for the backbones. In float32 (and float64) it is libtorch's
 * scaled_dot_product_attention. In bf16/f16 it is two batched GEMMs with the softmax in float32:
 * libtorch 2.10's CPU scaled_dot_product_attention takes 80-120 ms for the backward pass of one
 * LLaMA-7B layer's attention at 2 x 65 tokens in bf16, against 8 ms for the same attention as matmuls
 * (and 10 ms in float32); forward costs the same either way (`vladapt bench block`). One formulation
 * for every bf16 pass keeps activation checkpointing's recomputation identical to its forward pass.
 */
public final class Attention {
    private Attention() {}

    /**
     * @param q      (B, H, T, hd)
     * @param k      (B, Hkv, Tk, hd), Hkv dividing H (grouped-query attention)
     * @param v      (B, Hkv, Tk, hd)
     * @param mask   (B, 1, T, Tk) bool, true = may attend; null for none
     * @param causal with no mask: query i sees keys up to Tk - T + i
     * @return (B, H, T, hd)
     */
    public static Tensor attend(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal) {
        ScalarType t = OpCheck.dtype(q);
        boolean gqa = k.size(1) != q.size(1);
        if (t == ScalarType.Float || t == ScalarType.Double) {
            TensorOptional m = mask == null ? new TensorOptional() : new TensorOptional(mask);
            return torch.scaled_dot_product_attention(q, k, v, m, 0.0, mask == null && causal && q.size(2) > 1, new DoubleOptional(), gqa);
        }
        if (gqa) {                                                                      // query head h reads kv head h / rep
            k = repeatKv(k, q.size(1));                                                  // (B, H, Tk, hd)
            v = repeatKv(v, q.size(1));
        }
        long tq = q.size(2), tk = k.size(2);
        Tensor scores = torch.matmul(q, k.transpose(2, 3)).to(ScalarType.Float)           // (B, H, T, Tk)
                .mul(new Scalar(1 / Math.sqrt(q.size(3))));
        Tensor allowed = mask;
        if (allowed == null && causal && tq > 1) {
            Tensor i = torch.arange(new Scalar(tq), Tensors.options(ScalarType.Long, q)).view(tq, 1);
            Tensor j = torch.arange(new Scalar(tk), Tensors.options(ScalarType.Long, q)).view(1, tk);
            allowed = j.le(i.add(new Scalar(tk - tq)));                                 // (T, Tk)
        }
        if (allowed != null) scores = scores.masked_fill(allowed.logical_not(), new Scalar(Double.NEGATIVE_INFINITY));
        return torch.matmul(torch.softmax(scores, -1).to(t), v);                          // (B, H, T, hd)
    }

    private static Tensor repeatKv(Tensor x, long heads) {
        long b = x.size(0), kv = x.size(1), tk = x.size(2), hd = x.size(3);
        return x.unsqueeze(2).expand(b, kv, heads / kv, tk, hd).reshape(b, heads, tk, hd);
    }
}
