package io.vladapt.vpg;

import io.vladapt.nn.Params;
import io.vladapt.nn.Tensors;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** A VPG with BERT's initialisation, for training from scratch or for tests. */
public final class QFormerInit {
    private QFormerInit() {}

    /**
     * BERT/LAVIS init: linear weights and query_tokens N(0, 0.02), biases 0, LayerNorms 1/0 (the only
     * rank-1 weights here). float32, every tensor requiring grad.
     */
    public static QFormer random(QFormerConfig c, long seed) {
        torch.manual_seed(seed);
        Params p = new Params();
        try {
            for (Map.Entry<String, long[]> e : QFormer.parameterShapes(c).entrySet()) {
                try (PointerScope scope = new PointerScope()) {
                    String n = e.getKey();
                    long[] s = e.getValue();
                    Tensor t;
                    if (n.endsWith(".bias")) t = Tensors.zeros(ScalarType.Float, s);
                    else if (s.length == 1) t = Tensors.full(ScalarType.Float, 1, s);
                    else t = torch.randn(s, Tensors.options(ScalarType.Float)).mul(new Scalar(0.02));
                    p.put(n, t.set_requires_grad(true));
                }
            }
            return new QFormer(c, p);
        } catch (RuntimeException ex) {
            p.close();
            throw ex;
        }
    }
}
