package io.vladapt.api;

import io.vladapt.data.ImagePipeline;
import io.vladapt.nn.BatchDecoder;
import io.vladapt.nn.LlamaModel;
import org.bytedeco.pytorch.Tensor;

/** What the engine needs from one kind of vision-language model. Called from the engine's thread only. */
interface Backend extends AutoCloseable {
    /** Prefill inputs of one prompt, and the LLM (lane) it decodes on. */
    record Prepared(LlamaModel llm, BatchDecoder.Hooks hooks, Tensor embeds, Tensor positions, Tensor[] state) {}

    /**
     * One prompt alone, in the caller's PointerScope under a NoGradGuard.
     *
     * @param text   the prompt after the template
     * @param pixels (3, S, S) preprocessed image, or null
     */
    Prepared prepare(String text, Tensor pixels);

    /** The image pipeline of the model's ViT. */
    ImagePipeline pipeline();

    String decode(long[] ids);

    java.util.List<Integer> eosIds();

    /** The LLM's context length (positions). */
    int contextLength();

    /** The template applied when a request has none. */
    String defaultTemplate();

    /** The prompt text for the user's text and the request's template (null: the default). */
    default String render(String text, String requested) {
        return (requested != null ? requested : defaultTemplate()).replace("{prompt}", text);
    }

    ModelInfo info();

    @Override
    void close();
}
