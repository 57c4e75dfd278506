package io.vladapt.ext;

import static io.vladapt.testutil.T.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.mma.AdapterSettings;
import io.vladapt.mma.MmAdapterOp;
import io.vladapt.mma.MmAdapterWeights;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/** Results of native ops are Java-owned tensors: freed with their PointerScope, holding no stray references. */
class OwnershipTest {
    static final ScalarType F = ScalarType.Float;
    static final AdapterSettings S = new AdapterSettings(2, 1.0, 10.0, 0.0);

    static MmAdapterWeights weights() {
        return new MmAdapterWeights(randn(F, 0.1, 8, 16), randn(F, 0.1, 8), randn(F, 0.1, 16, 4), randn(F, 0.1, 16),
                randn(F, 0.1, 16, 4), randn(F, 0.1, 16), randn(F, 0.1, 2, 16), randn(F, 0.1, 2));
    }

    @Test
    void resultIsFreedWithItsScopeAndInputsAreUntouched() {
        try (PointerScope outer = new PointerScope()) {
            Tensor x = randn(F, 1, 2, 3, 16), z = randn(F, 1, 2, 16);
            MmAdapterWeights w = weights();
            Tensor y;
            try (PointerScope inner = new PointerScope()) {
                y = MmAdapterOp.forward(x, z, w, S, false);
                assertTrue(y.defined());
            }
            assertTrue(y.isNull(), "the result belongs to the inner scope and is freed with it");
            assertFalse(x.isNull());
            assertTrue(Double.isFinite(x.sum().item_double()), "inputs stay valid after the op's result is gone");
        }
    }

    @Test
    void resultOutlivesItsInputs() {
        try (PointerScope outer = new PointerScope()) {
            Tensor y;
            double expected;
            try (PointerScope inner = new PointerScope()) {
                Tensor x = randn(F, 1, 2, 3, 16), z = randn(F, 1, 2, 16);
                y = MmAdapterOp.forward(x, z, weights(), S, false);
                expected = y.sum().item_double();
                outer.attach(y);   // attach retains, detach releases: attach first or y is freed
                inner.detach(y);
            }
            assertEquals(expected, y.sum().item_double(), 0.0, "the result owns its storage");
        }
    }

    @Test
    void nativeOpsKeepNoReferenceToTheirInputs() {
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            Tensor x = randn(F, 1, 2, 3, 16), z = randn(F, 1, 2, 16);
            MmAdapterWeights w = weights();
            long before = x.use_count(), beforeA = w.aW().use_count();
            Tensor route = MmAdapterOp.route(z, w.rW(), w.rB(), 10);
            for (int i = 0; i < 10; i++) {
                MmAdapterOp.forward(x, z, w, S, false);
                MmAdapterOp.inferFused(x, route, w, S);
            }
            assertEquals(before, x.use_count(), "x's reference count is back where it was");
            assertEquals(beforeA, w.aW().use_count(), "A_w's reference count is back where it was");
        }
    }
}
