package io.vladapt.nn;

import java.util.List;

/**
 * Decoding settings.
 *
 * @param temperature 0 = greedy; otherwise logits are divided by it before sampling
 * @param topK        keep the k most likely tokens (0 = off)
 * @param topP        keep the smallest set whose probability reaches p (1 = off)
 * @param seed        seeds libtorch's generator before sampling (same seed, same CPU: same tokens)
 * @param stopStrings generation of a row ends once its decoded text contains one of these
 * @param stopAtEos   whether the model's EOS ids end a row (off: always maxNewTokens, like HF with
 *                    eos_token_id=None)
 */
public record GenerationConfig(int maxNewTokens, double temperature, int topK, double topP, long seed,
                               List<String> stopStrings, boolean stopAtEos) {
    public GenerationConfig {
        if (maxNewTokens < 0) throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
        if (temperature < 0 || !Double.isFinite(temperature)) throw new IllegalArgumentException("temperature must be >= 0");
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0");
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        stopStrings = List.copyOf(stopStrings);
    }

    public static GenerationConfig greedy(int maxNewTokens) {
        return new GenerationConfig(maxNewTokens, 0, 0, 1, 0, List.of(), true);
    }

    /** The same settings without stopping at EOS. */
    public GenerationConfig ignoringEos() {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, seed, stopStrings, false);
    }

    /** LaVIN's evaluation decoding: temperature 0.1, top-p 0.75. */
    public static GenerationConfig lavin(int maxNewTokens, long seed) {
        return new GenerationConfig(maxNewTokens, 0.1, 0, 0.75, seed, List.of(), true);
    }
}
