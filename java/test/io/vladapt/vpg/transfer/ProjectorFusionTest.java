package io.vladapt.vpg.transfer;

import static io.vladapt.testutil.T.assertClose;
import static io.vladapt.testutil.T.randn;
import static io.vladapt.testutil.T.tol;
import static org.bytedeco.pytorch.global.torch.linear;

import io.vladapt.nn.LinearWeights;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The fused projector equals the source projector followed by the converter. */
class ProjectorFusionTest {
    @ParameterizedTest
    @EnumSource(value = ScalarType.class, names = {"Double", "Float"})
    void fusionEqualsApplyingBothMaps(ScalarType type) {
        try (PointerScope scope = new PointerScope()) {
            long dq = 24, ds = 16, dt = 40;
            LinearWeights src = new LinearWeights(randn(type, 0.3, ds, dq), randn(type, 0.3, ds));
            LinearWeights conv = new LinearWeights(randn(type, 0.3, dt, ds), randn(type, 0.3, dt));
            LinearWeights fused = ProjectorFusion.fuse(conv, src);
            Tensor q = randn(type, 1, 2, 32, dq);                                   // (B, queries, d_q)
            Tensor twoSteps = linear(linear(q, src.weight(), new TensorOptional(src.bias())), conv.weight(),
                    new TensorOptional(conv.bias()));
            assertClose("fused(q)", linear(q, fused.weight(), new TensorOptional(fused.bias())), twoSteps, tol(type));
            assertClose("W_t = C_w S_w", fused.weight(), conv.weight().matmul(src.weight()), tol(type));
            assertClose("b_t = C_w S_b + C_b", fused.bias(), conv.weight().matmul(src.bias()).add(conv.bias()), tol(type));
        }
    }
}
