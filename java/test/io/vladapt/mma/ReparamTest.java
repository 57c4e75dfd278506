package io.vladapt.mma;

import static io.vladapt.testutil.T.assertClose;
import static io.vladapt.testutil.T.randn;
import static org.bytedeco.pytorch.global.torch.linear;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.vladapt.nn.LinearWeights;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Merged projections equal adapter-then-projection; merged weights equal W (I + M A) computed in Java. */
class ReparamTest {
    static final ScalarType F = ScalarType.Float, D = ScalarType.Double;

    static MmAdapterWeights weights(ScalarType t, long d, long r, long g) {
        return new MmAdapterWeights(randn(t, 0.3, r, d), randn(t, 0.3, r), randn(t, 0.3, d, r / g), randn(t, 0.3, d),
                randn(t, 0.3, d, r / g), randn(t, 0.3, d), randn(t, 0.3, 2, d), randn(t, 0.3, 2));
    }

    static Tensor apply(LinearWeights p, Tensor x) {
        return p.bias() == null ? linear(x, p.weight()) : linear(x, p.weight(), new TensorOptional(p.bias()));
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 4})
    void mergedMmAdapterEqualsAdapterThenProjection(long g) {
        try (PointerScope scope = new PointerScope()) {
            long b = 3, t = 7, d = 32, r = 8, o = 24;
            AdapterSettings s = new AdapterSettings(g, 1.3, 10.0, 0.1);
            MmAdapterWeights w = weights(F, d, r, g);
            Tensor z = randn(F, 1, 2, d);                                      // one state per modality
            Tensor routes = MmAdapterOp.route(z, w.rW(), w.rB(), s.temperature());  // (2, 2)
            for (boolean withBias : new boolean[] {true, false}) {
                LinearWeights proj = new LinearWeights(randn(F, 0.2, o, d), withBias ? randn(F, 0.2, o) : null);
                for (int modality = 0; modality < 2; modality++) {
                    Tensor route = routes.select(0, modality);                  // (2)
                    Tensor x = randn(F, 1, b, t, d);
                    Tensor zb = z.select(0, modality).unsqueeze(0).expand(b, d).contiguous();
                    Tensor expected = apply(proj, MmAdapterOp.forward(x, zb, w, s, false));
                    LinearWeights merged = Reparam.merge(proj, w, route, s);
                    assertClose("merged (g=" + g + ", bias=" + withBias + ", modality " + modality + ")",
                            apply(merged, x), expected, 1e-5);
                }
            }
        }
    }

    @Test
    void mergedRepAdapterEqualsAdapterThenProjection() {
        try (PointerScope scope = new PointerScope()) {
            AdapterSettings s = new AdapterSettings(2, 0.7, 1.0, 0.0);
            RepAdapterWeights w = new RepAdapterWeights(randn(F, 0.3, 8, 32), randn(F, 0.3, 8), randn(F, 0.3, 32, 4), randn(F, 0.3, 32));
            LinearWeights proj = new LinearWeights(randn(F, 0.2, 48, 32), randn(F, 0.2, 48));
            Tensor x = randn(F, 1, 2, 5, 32);
            assertClose("merged RepAdapter", apply(Reparam.merge(proj, w, s), x), apply(proj, RepAdapterOp.forward(x, w, s, false)), 1e-5);
        }
    }

    /** W' = W (I + s (w0 B + w1 D) A), b' = b + W s (w0 (B A_b + B_b) + w1 (D A_b + D_b)), spelled out densely. */
    @Test
    void mergedWeightsEqualTheClosedFormInFloat64() {
        try (PointerScope scope = new PointerScope()) {
            long d = 12, r = 4, g = 2, o = 10, k = r / g;
            double s = 0.9, w0 = 0.25, w1 = 0.75;  // exact in float32
            MmAdapterWeights w = weights(D, d, r, g);
            Tensor route = torch.tensor(new float[] {(float) w0, (float) w1}).to(D);
            LinearWeights proj = new LinearWeights(randn(D, 0.3, o, d), randn(D, 0.3, o));
            Tensor bd = dense(w.bW(), g, k), dd = dense(w.dW(), g, k);        // (d, r)
            Tensor m = bd.mul(new Scalar(w0)).add(dd.mul(new Scalar(w1))).mul(new Scalar(s));
            Tensor eye = torch.eye(d, new org.bytedeco.pytorch.TensorOptions().dtype(new org.bytedeco.pytorch.ScalarTypeOptional(D)));
            Tensor wExpected = proj.weight().matmul(eye.add(m.matmul(w.aW())));
            Tensor c = w.bB().mul(new Scalar(w0)).add(w.dB().mul(new Scalar(w1))).mul(new Scalar(s));
            Tensor bExpected = proj.bias().add(proj.weight().matmul(m.matmul(w.aB()).add(c)));
            LinearWeights merged = Reparam.merge(proj, w, route, new AdapterSettings(g, s, 10, 0));
            assertClose("W'", merged.weight(), wExpected, 1e-10);
            assertClose("b'", merged.bias(), bExpected, 1e-10);
            assertFalse(merged.weight().requires_grad(), "merging records no graph");
        }
    }

    @Test
    void bfloat16ProjectionIsMergedInFloat32AndRoundedOnce() {
        try (PointerScope scope = new PointerScope()) {
            MmAdapterWeights w32 = weights(F, 32, 8, 2);
            LinearWeights proj32 = new LinearWeights(randn(F, 0.2, 16, 32), null);
            Tensor route = torch.softmax(randn(F, 1, 2), 0);
            AdapterSettings s = new AdapterSettings(2, 1.0, 10, 0);
            LinearWeights ref = Reparam.merge(proj32, w32, route, s);
            MmAdapterWeights wbf = bf16(w32);
            LinearWeights mergedBf = Reparam.merge(new LinearWeights(proj32.weight().to(ScalarType.BFloat16), null), wbf,
                    route.to(ScalarType.BFloat16), s);
            assertEquals(ScalarType.BFloat16, io.vladapt.ext.OpCheck.dtype(mergedBf.weight()), "dtype kept");
            // bf16 has 8 mantissa bits: inputs and output each carry ~0.4% rounding
            assertClose("bf16 merge", mergedBf.weight().to(F), ref.weight(), 3e-2);
        }
    }

    static MmAdapterWeights bf16(MmAdapterWeights w) {
        ScalarType b = ScalarType.BFloat16;
        return new MmAdapterWeights(w.aW().to(b), w.aB().to(b), w.bW().to(b), w.bB().to(b), w.dW().to(b), w.dB().to(b),
                w.rW().to(b), w.rB().to(b));
    }

    /** Block-diagonal (d, r) form of grouped weights (d, k): the plain definition, with loops. */
    static Tensor dense(Tensor grouped, long g, long k) {
        long d = grouped.size(0);
        Tensor out = torch.zeros(new long[] {d, g * k}, grouped.options());
        for (long gi = 0; gi < g; gi++) {
            out.narrow(0, gi * (d / g), d / g).narrow(1, gi * k, k).copy_(grouped.narrow(0, gi * (d / g), d / g));
        }
        return out;
    }
}
