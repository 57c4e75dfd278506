package io.vladapt.nn;

import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Models with random weights (HF's init: normal(0, std), norms 1): for benchmarks and for models VLAdapt trains itself. */
public final class RandomInit {
    private RandomInit() {}

    /** Draws one tensor per name; norm weights (1-D, named *norm*) start at 1, biases at 0. */
    public static Params params(Map<String, long[]> shapes, long seed, double std, ScalarType dtype) {
        torch.manual_seed(seed);
        Params p = new Params();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            try (PointerScope scope = new PointerScope()) {
                String n = e.getKey();
                Tensor t;
                if ((n.contains("norm") || n.contains("layernorm")) && n.endsWith(".weight")) t = Tensors.full(dtype, 1, e.getValue());
                else if (n.endsWith(".bias")) t = Tensors.zeros(dtype, e.getValue());
                else t = torch.randn(e.getValue(), Tensors.options(ScalarType.Float)).mul(new Scalar(std)).to(dtype);
                p.put(n, t);
            }
        }
        return p;
    }

    /** U(-bound, bound) in float32: torch.nn.Linear's default init uses bound = 1/sqrt(fan_in). */
    public static Tensor uniform(double bound, long... shape) {
        return torch.rand(shape, Tensors.options(ScalarType.Float)).mul(new Scalar(2 * bound)).sub(new Scalar(bound));
    }

    public static LlamaModel llama(LlamaConfig c, long seed, ScalarType dtype) {
        return new LlamaModel(c, params(LlamaModel.parameterShapes(c), seed, 0.02, dtype), dtype);
    }

    public static ClipVisionModel clip(ClipVisionConfig c, long seed, ScalarType dtype) {
        return new ClipVisionModel(c, params(ClipVisionModel.parameterShapes(c), seed, 0.02, dtype));
    }
}
