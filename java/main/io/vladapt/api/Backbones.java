package io.vladapt.api;

import io.vladapt.ext.Devices;
import io.vladapt.ext.Precision;
import io.vladapt.ext.VlOps;
import io.vladapt.io.ClipLoader;
import io.vladapt.io.LlamaLoader;
import io.vladapt.io.TextTokenizer;
import io.vladapt.mma.MmaCheckpoint;
import io.vladapt.mma.MmaMemory;
import io.vladapt.quant.QuantScheme;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.LlamaModel;
import java.nio.file.Path;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The frozen backbones of a vision-language model, loaded once: a LLaMA-family LLM with its tokenizer
 * and a CLIP ViT. Training, evaluation and chat all start here.
 *
 * @param llmDir the LLM folder (HF or Meta layout, with its tokenizer)
 * @param vitDir the ViT folder (HF) or OpenAI-format state dict
 */
public record Backbones(TextTokenizer tokenizer, LlamaModel llm, ClipVisionModel vit, Path llmDir, Path vitDir, ScalarType dtype)
        implements AutoCloseable {

    /** Loads all three on the CPU. */
    public static Backbones load(Path llm, Path vit, String dtype, int vitHeads) {
        return load(llm, vit, dtype, "cpu", vitHeads);
    }

    /**
     * Loads all three.
     *
     * @param dtype    the frozen weights' dtype as users write it ("auto", "float32", "bfloat16", ...)
     * @param device   "cpu", "cuda", "cuda:N"
     * @param vitHeads head count of an OpenAI-format ViT (0: width / 64)
     */
    public static Backbones load(Path llm, Path vit, String dtype, String device, int vitHeads) {
        return load(llm, vit, dtype, device, vitHeads, null, null);
    }

    /**
     * Loads all three with quantised frozen projections.
     *
     * @param quantize    the LLM's projections: "int8", "int4", "int4:64" ({@link QuantScheme#parse}); null or "" keeps
     *                    them dense, unless the folder is pre-quantised (compressed-tensors), which loads as it is stored
     * @param quantizeVit the ViT's, likewise
     */
    public static Backbones load(Path llm, Path vit, String dtype, String device, int vitHeads, String quantize, String quantizeVit) {
        VlOps.load();
        String at = Devices.parse(device);
        ScalarType t = dtype(dtype, at);
        QuantScheme lq = scheme(quantize), vq = scheme(quantizeVit);
        TextTokenizer tok = TextTokenizer.load(llm);
        LlamaModel lm = null;
        try {
            lm = LlamaLoader.load(llm, t, at, lq);
            ClipVisionModel v = ClipLoader.load(vit, t, at, vitHeads, vq);
            return new Backbones(tok, lm, v, llm, vit, t);
        } catch (RuntimeException e) {
            if (lm != null) lm.close();
            tok.close();
            throw e;
        }
    }

    /**
     * The one place where a dtype name becomes libtorch's type, for every loader of the API, the CLI
     * and the server: "auto" is bf16 where the hardware multiplies it natively ({@link Precision}).
     */
    public static ScalarType dtype(String name, String device) {
        return Precision.resolve(name, device).dtype();
    }

    /** A --quantize value as users write it ("int8", "int4", "int4:64", "none"); null, "" or "none" is null (dense). */
    public static QuantScheme scheme(String text) {
        if (text == null || text.isBlank() || text.trim().equalsIgnoreCase("none")) return null;
        return QuantScheme.parse(text);
    }

    /**
     * How the projections will be held, for the memory check before loading: the schemes asked for, or
     * those a pre-quantised folder's config.json names.
     */
    public static MmaMemory.Quant quantization(Path llm, Path vit, String quantize, String quantizeVit) {
        QuantScheme lq = scheme(quantize), vq = scheme(quantizeVit);
        return new MmaMemory.Quant(lq != null ? lq : LlamaLoader.storedQuantization(llm), vq != null ? vq : LlamaLoader.storedQuantization(vit));
    }

    /** What adapters trained on these backbones record about them (checked when they are loaded). */
    public MmaCheckpoint.Base base() {
        return new MmaCheckpoint.Base(llmDir.toString(), llm.config().vocabSize(), llm.config().numLayers(), llm.config().hiddenSize(),
                vitDir.toString(), vit.config().numLayers(), vit.config().hiddenSize());
    }

    @Override
    public void close() {
        vit.close();
        llm.close();
        tokenizer.close();
    }
}
