package io.vladapt.nn;

import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Next-token choice from last-position logits (B, V): greedy, temperature, top-k, top-p. */
public final class Sampler {
    private Sampler() {}

    /** (B) int64, sampling from libtorch's default generator. */
    public static Tensor next(Tensor logits, GenerationConfig g) {
        return next(logits, g, null);
    }

    /** (B) int64, sampling from {@code generator} (a sequence's own, for serving), or the default one when null. */
    public static Tensor next(Tensor logits, GenerationConfig g, org.bytedeco.pytorch.Generator generator) {
        Tensor l = logits.to(ScalarType.Float);
        if (g.temperature() == 0) return torch.argmax(l, new LongOptional(-1), false);
        l = l.div(new Scalar(g.temperature()));
        if (g.topK() > 0 && g.topK() < l.size(-1)) {
            Tensor kth = torch.topk(l, g.topK(), -1, true, true).get0().narrow(-1, g.topK() - 1, 1);  // (B, 1)
            l = l.masked_fill(l.lt(kth), new Scalar(Double.NEGATIVE_INFINITY));
        }
        if (g.topP() < 1) {
            T_TensorTensor_T sorted = torch.sort(l, -1, true);
            Tensor probs = torch.softmax(sorted.get0(), -1);
            // drop a token when the tokens before it already reach top-p (the first always stays)
            Tensor drop = probs.cumsum(-1).sub(probs).gt(new Scalar(g.topP()));
            Tensor dropInOrder = torch.zeros_like(drop).scatter(-1, sorted.get1(), drop);
            l = l.masked_fill(dropInOrder, new Scalar(Double.NEGATIVE_INFINITY));
        }
        GeneratorOptional gen = generator == null ? new GeneratorOptional() : new GeneratorOptional(generator);
        return torch.multinomial(torch.softmax(l, -1), 1, false, gen).squeeze(-1);
    }
}
