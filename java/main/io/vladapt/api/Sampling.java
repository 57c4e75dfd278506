package io.vladapt.api;

import io.vladapt.nn.GenerationConfig;
import java.util.List;

/**
 * Decoding settings of one request.
 *
 * @param maxTokens     most tokens to generate
 * @param temperature   0 = greedy
 * @param topP          nucleus sampling (1 = off)
 * @param topK          keep the k most likely tokens (0 = off)
 * @param seed          the request's own random generator starts here: same seed, same answer, whatever runs beside it
 * @param stop          generation ends before any of these strings (which is not returned)
 * @param beams         1 = greedy or sampling; more = beam search (temperature 0, no stop strings, not streamed)
 * @param lengthPenalty beam search: hypotheses score sum(log p) / length^lengthPenalty (transformers' length_penalty)
 * @param minTokens     EOS is forbidden before this many tokens
 * @param noRepeatNgram no n-gram of this size is generated twice (0 = off)
 */
public record Sampling(int maxTokens, double temperature, double topP, int topK, long seed, List<String> stop, int beams,
                       double lengthPenalty, int minTokens, int noRepeatNgram) {
    public Sampling {
        stop = List.copyOf(stop);
        if (maxTokens < 0) throw new IllegalArgumentException("max tokens must be >= 0, got " + maxTokens);
        if (!(temperature >= 0) || !Double.isFinite(temperature)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        if (topK < 0) throw new IllegalArgumentException("top_k must be >= 0, got " + topK);
        if (stop.stream().anyMatch(String::isEmpty)) throw new IllegalArgumentException("stop strings must not be empty");
        if (beams > 1 && !stop.isEmpty()) throw new IllegalArgumentException("stop strings are not supported with beam search");
        // the decoder's own checks (beams >= 1, beams need temperature 0, min <= max, ...), with the same messages
        new GenerationConfig(maxTokens, temperature, topK, topP, seed, List.of(), true, beams, lengthPenalty, minTokens, noRepeatNgram,
                GenerationConfig.EarlyStopping.FALSE);
    }

    /** Greedy or sampled decoding without beams, minimum length or n-gram rule. */
    public Sampling(int maxTokens, double temperature, double topP, int topK, long seed, List<String> stop) {
        this(maxTokens, temperature, topP, topK, seed, stop, 1, 1.0, 0, 0);
    }

    /** Greedy decoding of up to {@code maxTokens} tokens. */
    public static Sampling greedy(int maxTokens) {
        return new Sampling(maxTokens, 0, 1, 0, 0, List.of());
    }

    public Sampling withMaxTokens(int n) {
        return new Sampling(n, temperature, topP, topK, seed, stop, beams, lengthPenalty, minTokens, noRepeatNgram);
    }

    public Sampling withStop(List<String> s) {
        return new Sampling(maxTokens, temperature, topP, topK, seed, s, beams, lengthPenalty, minTokens, noRepeatNgram);
    }

    /** Beam search with {@code n} beams (needs temperature 0). */
    public Sampling withBeams(int n, double penalty) {
        return new Sampling(maxTokens, temperature, topP, topK, seed, stop, n, penalty, minTokens, noRepeatNgram);
    }

    public Sampling withMinTokens(int n) {
        return new Sampling(maxTokens, temperature, topP, topK, seed, stop, beams, lengthPenalty, n, noRepeatNgram);
    }

    public Sampling withNoRepeatNgram(int n) {
        return new Sampling(maxTokens, temperature, topP, topK, seed, stop, beams, lengthPenalty, minTokens, n);
    }

    /**
     * Whether the request runs as one whole generation of its own rather than in the shared
     * token-by-token batch: beam search, a minimum length or the n-gram rule. Such requests are not
     * streamed.
     */
    public boolean whole() {
        return beams > 1 || minTokens > 0 || noRepeatNgram > 0;
    }

    /** The decoder's settings (stop strings are handled by the engine, which cuts text at them). */
    GenerationConfig generation() {
        return new GenerationConfig(maxTokens, temperature, topK, topP, seed, List.of(), true, beams, lengthPenalty, minTokens, noRepeatNgram,
                GenerationConfig.EarlyStopping.FALSE);
    }
}
