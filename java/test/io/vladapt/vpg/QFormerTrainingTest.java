package io.vladapt.vpg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.ext.OpCheck;
import io.vladapt.testutil.T;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A randomly initialised VPG trains end to end: every tensor gets a gradient. */
class QFormerTrainingTest {
    static final QFormerConfig TINY = new QFormerConfig(32, 3, 4, 48, 2, 20, 6, 1e-12, 1e-5, 0.1, 0.1);

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void gradientsReachEveryParameter(boolean train) {
        try (PointerScope scope = new PointerScope(); QFormer m = QFormerInit.random(TINY, 3)) {
            assertSame(m.params(), m.trainableParams());
            assertEquals(QFormer.parameterShapes(TINY).keySet(), m.trainableParams().asMap().keySet());
            Tensor vit = T.randn(ScalarType.Float, 1.5, 2, 7, TINY.encoderHiddenSize());           // (B, N, d_v)
            Tensor out = m.forward(vit, train);                                                      // (B, Q, h)
            assertArrayEquals(new long[] {2, TINY.numQueryTokens(), TINY.hiddenSize()}, OpCheck.shape(out));
            // A plain sum would not do: the last op is a LayerNorm whose weight starts at 1, and the sum of a
            // normalised row is always 0, so nothing before it would get a gradient. Weight the sum instead.
            out.mul(T.randn(ScalarType.Float, 1, OpCheck.shape(out))).sum().backward();
            for (Map.Entry<String, Tensor> e : m.trainableParams().asMap().entrySet()) {
                Tensor grad = e.getValue().grad();
                assertTrue(grad.defined(), e.getKey() + ": no gradient");
                assertArrayEquals(OpCheck.shape(e.getValue()), OpCheck.shape(grad), e.getKey() + ": gradient shape");
                assertTrue(grad.abs().sum().item_double() > 0, e.getKey() + ": gradient is all zero");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void crossAttentionEveryFrequencyLayers(int frequency) {
        QFormerConfig c = new QFormerConfig(16, 5, 2, 32, frequency, 12, 4, 1e-12, 1e-5, 0.1, 0.1);
        Map<String, long[]> shapes = QFormer.parameterShapes(c);
        for (int i = 0; i < c.numLayers(); i++) {
            String key = QFormerNames.layer(i) + "crossattention.attention.key.weight";
            assertEquals(i % frequency == 0, shapes.containsKey(key), key);
            if (shapes.containsKey(key)) assertArrayEquals(new long[] {16, 12}, shapes.get(key));
        }
    }
}
