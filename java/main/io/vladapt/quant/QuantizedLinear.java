package io.vladapt.quant;

import io.vladapt.ext.OpCheck;
import io.vladapt.ext.VlOps;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A frozen linear layer y = x W^T + b with a quantised W. Two ways to run it, one answer:
 * <ul>
 *   <li>{@link #forwardKernel}: the C++ kernels (GEMV for up to 8 rows, GEMM above), no autograd graph;
 *       inference, and the forward pass of training under activation checkpointing;</li>
 *   <li>{@link #forwardDifferentiable}: W dequantised into a temporary of x's dtype, then
 *       {@code linear}: the input gradient flows through the dequantised W; W itself has none.</li>
 * </ul>
 * {@link #forward} takes the kernel unless autograd needs the graph (grad mode on and x requires grad).
 */
public final class QuantizedLinear implements io.vladapt.nn.Projection {
    private final QuantizedWeight weight;
    private final Tensor bias;
    private boolean owning;

    /** @param bias (out) or null */
    public QuantizedLinear(QuantizedWeight weight, Tensor bias) {
        this.weight = weight;
        this.bias = bias;
        if (bias != null) {
            long[] s = OpCheck.shape(bias);
            if (s.length != 1 || s[0] != weight.outFeatures() || !OpCheck.isFloating(OpCheck.dtype(bias))) {
                throw new IllegalArgumentException(weight.name() + ": bias must be a floating (" + weight.outFeatures()
                        + ") tensor, got " + OpCheck.describe(bias));
            }
        }
    }

    /**
     * A layer that keeps its weight's tensors alive past the PointerScope they were made in and frees
     * them in {@link #close()} (what a model's loader hands the model). The bias stays with its owner.
     */
    public static QuantizedLinear owning(QuantizedWeight weight, Tensor bias) {
        QuantizedLinear l = new QuantizedLinear(weight, bias);
        for (Pointer p : weight.tensors()) if (p != null) p.retainReference();
        l.owning = true;
        return l;
    }

    @Override
    public void close() {
        if (!owning) return;
        owning = false;
        for (Pointer p : weight.tensors()) if (p != null) p.releaseReference();
    }

    public QuantizedWeight weight() {
        return weight;
    }

    /** May be null. */
    public Tensor bias() {
        return bias;
    }

    /** (..., in) to (..., out) in x's dtype. */
    @Override
    public Tensor forward(Tensor x) {
        return GradMode.is_enabled() && x.requires_grad() ? forwardDifferentiable(x) : forwardKernel(x);
    }

    /** The kernels; records no graph. */
    public Tensor forwardKernel(Tensor x) {
        check(x);
        Tensor out = new Tensor();
        weight.call("forward on x " + OpCheck.describe(x), () -> VlOps.vl_quant_linear(out, x, weight.q(), weight.scale(),
                weight.zero(), bias, weight.scheme().bits(), weight.scheme().group()));
        return out;
    }

    /** Dequantise + linear, recorded by autograd (gradient w.r.t. x only). */
    public Tensor forwardDifferentiable(Tensor x) {
        check(x);
        ScalarType type = OpCheck.dtype(x);
        Tensor w = weight.dequantize(type);                                   // (out, in), no grad
        if (bias == null) return torch.linear(x, w);
        Tensor b = OpCheck.dtype(bias) == type ? bias : bias.to(type);
        return torch.linear(x, w, new TensorOptional(b));
    }

    private void check(Tensor x) {
        String op = weight.name() + " (" + weight.describe() + ")";
        if (x == null || x.isNull() || !x.defined()) throw new IllegalArgumentException(op + ": x is missing");
        long[] s = OpCheck.shape(x);
        ScalarType t = OpCheck.dtype(x);
        if (t != ScalarType.Float && t != ScalarType.BFloat16 && t != ScalarType.Half) {
            throw new IllegalArgumentException(op + ": x must be float32, bfloat16 or float16, got " + OpCheck.describe(x));
        }
        if (!x.is_cpu()) throw new IllegalArgumentException(op + ": x must be on the CPU, got " + OpCheck.describe(x));
        if (s.length < 1 || s[s.length - 1] != weight.inFeatures()) {
            throw new IllegalArgumentException(op + ": x " + OpCheck.describe(x) + " must end in in_features = "
                    + weight.inFeatures());
        }
    }
}
