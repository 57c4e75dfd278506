package io.vladapt.mma;

import static io.vladapt.testutil.T.assertClose;
import static io.vladapt.testutil.T.randn;
import static io.vladapt.testutil.T.twin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.vladapt.ext.OpCheck;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** The fused no-grad kernel gives the autograd op's numbers (eval mode) and records nothing. */
class FusedInferenceTest {

    static MmAdapterWeights weights(ScalarType t, long d, long r, long g) {
        return ReparamTest.weights(t, d, r, g);
    }

    @ParameterizedTest(name = "{0}: B={1} T={2} d={3} r={4} g={5}")
    @CsvSource({
        // k = r/g in {1, 2, 3, 4, 8}: the unrolled cases and the generic one; rows crossing block edges
        "Float, 2, 7, 32, 8, 2", "Double, 2, 7, 32, 8, 2", "Float, 3, 1, 64, 4, 4", "Float, 1, 19, 48, 6, 2",
        "Double, 4, 9, 24, 16, 2", "Float, 2, 5, 16, 8, 1", "Float, 1, 1, 1200, 16, 4", "Double, 3, 17, 40, 2, 2",
        // k > 64 falls back to the composite path (same contract)
        "Float, 2, 3, 16, 130, 2"})
    void fusedEqualsEvalForward(ScalarType type, long b, long t, long d, long r, long g) {
        try (PointerScope scope = new PointerScope()) {
            AdapterSettings s = new AdapterSettings(g, 0.8, 5.0, 0.1);
            MmAdapterWeights w = weights(type, d, r, g);
            Tensor x = randn(type, 1, b, t, d), z = randn(type, 1, b, d);
            Tensor expected = MmAdapterOp.forward(x, z, w, s, false);
            Tensor route = MmAdapterOp.route(z, w.rW(), w.rB(), s.temperature());
            Tensor fused = MmAdapterOp.inferFused(x, route, w, s);
            assertClose("fused vs autograd path", fused, expected, type == ScalarType.Double ? 1e-12 : 1e-5);
        }
    }

    @ParameterizedTest
    @EnumSource(value = ScalarType.class, names = {"BFloat16", "Half"})
    void otherDtypesUseTheCompositePath(ScalarType type) {
        try (PointerScope scope = new PointerScope()) {
            AdapterSettings s = new AdapterSettings(2, 1.0, 10.0, 0.0);
            MmAdapterWeights w = weights(ScalarType.Float, 32, 8, 2);
            Tensor x = randn(ScalarType.Float, 1, 2, 3, 32), z = randn(ScalarType.Float, 1, 2, 32);
            Tensor expected = MmAdapterOp.forward(x, z, w, s, false);
            MmAdapterWeights wl = ReparamTest.bf16(w);
            if (type == ScalarType.Half) {
                wl = new MmAdapterWeights(w.aW().to(type), w.aB().to(type), w.bW().to(type), w.bB().to(type), w.dW().to(type),
                        w.dB().to(type), w.rW().to(type), w.rB().to(type));
            }
            Tensor route = MmAdapterOp.route(z, w.rW(), w.rB(), s.temperature()).to(type);
            Tensor fused = MmAdapterOp.inferFused(x.to(type), route, wl, s);
            assertEquals(type, OpCheck.dtype(fused));
            assertClose("low precision fused vs float32", fused.to(ScalarType.Float), expected, 5e-2);
        }
    }

    @org.junit.jupiter.api.Test
    void recordsNoGraphEvenForInputsThatRequireGrad() {
        try (PointerScope scope = new PointerScope()) {
            AdapterSettings s = new AdapterSettings(2, 1.0, 10.0, 0.0);
            MmAdapterWeights w = weights(ScalarType.Float, 16, 4, 2);
            Tensor x = twin(randn(ScalarType.Float, 1, 1, 4, 16));
            Tensor route = torch.softmax(randn(ScalarType.Float, 1, 1, 2), 1);
            Tensor y = MmAdapterOp.inferFused(x, route, w, s);
            assertFalse(y.requires_grad(), "inference kernel must not build an autograd graph");
            assertEquals(true, org.bytedeco.pytorch.GradMode.is_enabled(), "grad mode restored after the call");
        }
    }
}
