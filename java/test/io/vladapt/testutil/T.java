package io.vladapt.testutil;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.ext.OpCheck;
import io.vladapt.ext.Threads;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Tensor helpers for tests: seeded random leaves, closeness with a stated metric. */
public final class T {
    static {
        Threads.configure();
    }

    private T() {}

    /** Overwrites every non-norm tensor with N(0, std) (keeps requires_grad): trained-looking, decisive weights. */
    public static void randomiseStd(java.util.Map<String, Tensor> params, double std, long seed) {
        torch.manual_seed(seed);
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope();
             org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
            params.forEach((n, t) -> {
                if (!n.contains("norm")) t.copy_(torch.randn(OpCheck.shape(t), opts(ScalarType.Float)).mul(new Scalar(std)));
            });
        }
    }

    public static TensorOptions opts(ScalarType type) {
        return new TensorOptions().dtype(new org.bytedeco.pytorch.ScalarTypeOptional(type));
    }

    /** N(0, std^2) tensor that requires grad (a fresh leaf). */
    public static Tensor leaf(ScalarType type, double std, long... shape) {
        return randn(type, std, shape).set_requires_grad(true);
    }

    public static Tensor randn(ScalarType type, double std, long... shape) {
        return torch.randn(shape, opts(type)).mul(new Scalar(std));
    }

    public static Tensor zeros(ScalarType type, long... shape) {
        return torch.zeros(shape, opts(type));
    }

    /** A detached copy that requires grad: the same values as a new leaf. */
    public static Tensor twin(Tensor t) {
        return t.detach().clone().set_requires_grad(true);
    }

    /** max over elements of |a - b| / (1 + |b|): absolute near 0, relative for large values. */
    public static double err(Tensor a, Tensor b) {
        return a.detach().sub(b.detach()).abs().div(b.detach().abs().add(new Scalar(1.0))).max().item_double();
    }

    public static void assertClose(String what, Tensor actual, Tensor expected, double tol) {
        assertArrayEquals(OpCheck.shape(expected), OpCheck.shape(actual), what + ": shape");
        double e = err(actual, expected);
        assertTrue(e <= tol, what + ": max |a-b|/(1+|b|) = " + e + " > " + tol);
    }

    public static double tol(ScalarType type) {
        return type == ScalarType.Double ? 1e-10 : 1e-4;
    }
}
