package io.vladapt.vpg;

import io.vladapt.vpg.transfer.LlmIdentity;
import io.vladapt.io.LlamaLoader;
import io.vladapt.io.TextTokenizer;
import io.vladapt.nn.LlamaModel;
import java.nio.file.Path;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** A frozen LLM folder loaded with its tokenizer and identity (what projectors and converters are tied to). */
public record FrozenLlm(LlamaModel lm, TextTokenizer tok, LlmIdentity id) implements AutoCloseable {
    public static FrozenLlm load(Path dir, String name) {
        return load(dir, name, null);
    }

    /** With its projections quantised as they load ({@code quantize}, null: dense unless the folder is pre-quantised). */
    public static FrozenLlm load(Path dir, String name, io.vladapt.quant.QuantScheme quantize) {
        return load(dir, name, quantize, ScalarType.Float);
    }

    /**
     * With its weights in {@code dtype} (bfloat16 / float16: the frozen LLM computes in it; the VPG, projector
     * and converter stay float32 and soft prompts are cast at the LLM's input).
     */
    public static FrozenLlm load(Path dir, String name, io.vladapt.quant.QuantScheme quantize, ScalarType dtype) {
        LlamaModel lm = LlamaLoader.load(dir, dtype, "cpu", quantize);
        lm.params().asMap().values().forEach(p -> p.set_requires_grad(false));
        return new FrozenLlm(lm, TextTokenizer.load(dir), LlmIdentity.of(name, lm));
    }

    /** The input-embedding table (V, d) the converter maps between. */
    public org.bytedeco.pytorch.Tensor embeddings() {
        return lm.params().get("model.embed_tokens.weight");
    }

    @Override
    public void close() {
        lm.close();
        tok.close();
    }
}
