package io.vladapt.mma;

import static io.vladapt.testutil.T.assertClose;
import static io.vladapt.testutil.T.leaf;
import static io.vladapt.testutil.T.randn;
import static io.vladapt.testutil.T.tol;
import static io.vladapt.testutil.T.twin;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.ext.OpCheck;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The C++ RepAdapter against the op-by-op composition: forward and every gradient. */
class RepAdapterParityTest {

    @ParameterizedTest
    @EnumSource(value = ScalarType.class, names = {"Double", "Float"})
    void forwardAndAllGradientsMatch(ScalarType type) {
        Random rnd = new Random(11);
        for (int trial = 0; trial < 12; trial++) {
            try (PointerScope scope = new PointerScope()) {
                long g = new long[] {1, 2, 4}[rnd.nextInt(3)];
                long b = 1 + rnd.nextInt(4), t = 1 + rnd.nextInt(9), d = g * (1 + rnd.nextInt(12)), r = g * (1 + rnd.nextInt(4));
                AdapterSettings s = new AdapterSettings(g, 0.25 + rnd.nextDouble() * 2, 1.0, 0.1);
                Tensor[] in = {leaf(type, 1, b, t, d), leaf(type, 0.3, r, d), leaf(type, 0.3, r), leaf(type, 0.3, d, r / g),
                    leaf(type, 0.3, d)};
                Tensor[] ref = new Tensor[in.length];
                for (int i = 0; i < in.length; i++) ref[i] = twin(in[i]);
                Tensor y = RepAdapterOp.forward(in[0], new RepAdapterWeights(in[1], in[2], in[3], in[4]), s, false);
                Tensor yRef = NaiveAdapters.repAdapter(ref[0], new RepAdapterWeights(ref[1], ref[2], ref[3], ref[4]), s, false);
                String label = type + " (B,T,d,r,g)=(" + b + "," + t + "," + d + "," + r + "," + g + ")";
                assertClose(label + " forward", y, yRef, tol(type));
                Tensor cot = randn(type, 1, OpCheck.shape(y));
                y.mul(cot).sum().backward();
                yRef.mul(cot).sum().backward();
                String[] names = {"x", "A_w", "A_b", "U_w", "U_b"};
                for (int i = 0; i < in.length; i++) assertClose(label + " grad " + names[i], in[i].grad(), ref[i].grad(), tol(type));
            }
        }
    }

    @Test
    void zeroInitialisedUpProjectionIsTheIdentity() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = randn(ScalarType.Float, 1, 3, 5, 16);
            RepAdapterWeights w = new RepAdapterWeights(randn(ScalarType.Float, 0.3, 8, 16), randn(ScalarType.Float, 0.3, 8),
                    torch.zeros(16, 4), torch.zeros(16));
            Tensor y = RepAdapterOp.forward(x, w, new AdapterSettings(2, 1.0, 1.0, 0.1), true);
            assertTrue(torch.equal(y, x), "zero-initialised RepAdapter must return x exactly");
            Tensor y2 = RepAdapterOp.forward(x, w, new AdapterSettings(2, 3.0, 1.0, 0.0), false);
            assertTrue(torch.equal(y2, x.mul(new Scalar(1.0))), "scale does not matter when U = 0");
        }
    }
}
