package io.vladapt.api;

import io.vladapt.nn.GenerationConfig;
import java.util.List;

/**
 * Decoding settings of one request.
 *
 * @param maxTokens   most tokens to generate
 * @param temperature 0 = greedy
 * @param topP        nucleus sampling (1 = off)
 * @param topK        keep the k most likely tokens (0 = off)
 * @param seed        the request's own random generator starts here: same seed, same answer, whatever runs beside it
 * @param stop        generation ends before any of these strings (which is not returned)
 */
public record Sampling(int maxTokens, double temperature, double topP, int topK, long seed, List<String> stop) {
    public Sampling {
        stop = List.copyOf(stop);
        if (maxTokens < 0) throw new IllegalArgumentException("max tokens must be >= 0, got " + maxTokens);
        if (!(temperature >= 0) || !Double.isFinite(temperature)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        if (topK < 0) throw new IllegalArgumentException("top_k must be >= 0, got " + topK);
        if (stop.stream().anyMatch(String::isEmpty)) throw new IllegalArgumentException("stop strings must not be empty");
    }

    /** Greedy decoding of up to {@code maxTokens} tokens. */
    public static Sampling greedy(int maxTokens) {
        return new Sampling(maxTokens, 0, 1, 0, 0, List.of());
    }

    public Sampling withMaxTokens(int n) {
        return new Sampling(n, temperature, topP, topK, seed, stop);
    }

    public Sampling withStop(List<String> s) {
        return new Sampling(maxTokens, temperature, topP, topK, seed, s);
    }

    /** The decoder's settings (stop strings are handled by the engine, which cuts text at them). */
    GenerationConfig generation() {
        return new GenerationConfig(maxTokens, temperature, topK, topP, seed, List.of(), true);
    }
}
