package io.vladapt.nn;

import java.util.List;

/**
 * Decoding settings.
 *
 * @param temperature     0 = greedy; otherwise logits are divided by it before sampling
 * @param topK            keep the k most likely tokens (0 = off)
 * @param topP            keep the smallest set whose probability reaches p (1 = off)
 * @param seed            seeds libtorch's generator before sampling (same seed, same CPU: same tokens)
 * @param stopStrings     generation of a row ends once its decoded text contains one of these
 * @param stopAtEos       whether the model's EOS ids end a row (off: always maxNewTokens, like HF with
 *                        eos_token_id=None)
 * @param numBeams        1 = greedy or sampling; more = beam search ({@link BeamSearch}, as transformers'
 *                        {@code num_beams})
 * @param lengthPenalty   beam search: a finished hypothesis scores sum(log p) / length^lengthPenalty
 *                        (transformers' {@code length_penalty}; negative favours short answers)
 * @param minNewTokens    EOS is forbidden until this many tokens were generated ({@code min_new_tokens})
 * @param noRepeatNgram   no n-gram of this size occurs twice in a row's tokens (0 = off; {@code no_repeat_ngram_size})
 * @param earlyStopping   when beam search ends, as transformers' {@code early_stopping}
 */
public record GenerationConfig(int maxNewTokens, double temperature, int topK, double topP, long seed,
                               List<String> stopStrings, boolean stopAtEos, int numBeams, double lengthPenalty,
                               int minNewTokens, int noRepeatNgram, EarlyStopping earlyStopping) {
    /**
     * transformers' {@code early_stopping}: FALSE (its default) stops a prompt once the best running
     * beam, scored at the current length, cannot beat the worst of {@code numBeams} finished ones;
     * TRUE stops as soon as {@code numBeams} hypotheses finished; NEVER scores a positive length
     * penalty at the longest possible length (the canonical beam search).
     */
    public enum EarlyStopping { FALSE, TRUE, NEVER }

    public GenerationConfig {
        if (maxNewTokens < 0) throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
        if (temperature < 0 || !Double.isFinite(temperature)) throw new IllegalArgumentException("temperature must be >= 0");
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0");
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        if (numBeams < 1) throw new IllegalArgumentException("beams must be >= 1, got " + numBeams);
        if (numBeams > 1 && temperature > 0) {
            throw new IllegalArgumentException("beam search is deterministic: " + numBeams + " beams need temperature 0, got " + temperature);
        }
        if (numBeams > 1 && !stopStrings.isEmpty()) throw new IllegalArgumentException("stop strings are not supported with beam search");
        if (!Double.isFinite(lengthPenalty)) throw new IllegalArgumentException("length penalty must be finite, got " + lengthPenalty);
        if (minNewTokens < 0) throw new IllegalArgumentException("min new tokens must be >= 0, got " + minNewTokens);
        if (minNewTokens > maxNewTokens) {
            throw new IllegalArgumentException("min new tokens (" + minNewTokens + ") must not exceed max new tokens (" + maxNewTokens + ")");
        }
        if (noRepeatNgram < 0) throw new IllegalArgumentException("no-repeat n-gram size must be >= 0, got " + noRepeatNgram);
        if (earlyStopping == null) throw new IllegalArgumentException("early stopping must not be null");
        stopStrings = List.copyOf(stopStrings);
    }

    /** Greedy or sampled decoding without beams, minimum length or n-gram rule. */
    public GenerationConfig(int maxNewTokens, double temperature, int topK, double topP, long seed, List<String> stopStrings, boolean stopAtEos) {
        this(maxNewTokens, temperature, topK, topP, seed, stopStrings, stopAtEos, 1, 1.0, 0, 0, EarlyStopping.FALSE);
    }

    public static GenerationConfig greedy(int maxNewTokens) {
        return new GenerationConfig(maxNewTokens, 0, 0, 1, 0, List.of(), true);
    }

    /** Beam search with {@code beams} beams and the given length penalty (transformers' defaults otherwise). */
    public static GenerationConfig beams(int beams, double lengthPenalty, int minNewTokens, int maxNewTokens) {
        return new GenerationConfig(maxNewTokens, 0, 0, 1, 0, List.of(), true, beams, lengthPenalty, minNewTokens, 0, EarlyStopping.FALSE);
    }

    /** The same settings without stopping at EOS. */
    public GenerationConfig ignoringEos() {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, seed, stopStrings, false, numBeams, lengthPenalty, minNewTokens,
                noRepeatNgram, earlyStopping);
    }

    public GenerationConfig withBeams(int beams, double penalty) {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, seed, stopStrings, stopAtEos, beams, penalty, minNewTokens,
                noRepeatNgram, earlyStopping);
    }

    public GenerationConfig withLengths(int minNew, int maxNew) {
        return new GenerationConfig(maxNew, temperature, topK, topP, seed, stopStrings, stopAtEos, numBeams, lengthPenalty, minNew,
                noRepeatNgram, earlyStopping);
    }

    public GenerationConfig withNoRepeatNgram(int n) {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, seed, stopStrings, stopAtEos, numBeams, lengthPenalty, minNewTokens,
                n, earlyStopping);
    }

    public GenerationConfig withEarlyStopping(EarlyStopping e) {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, seed, stopStrings, stopAtEos, numBeams, lengthPenalty, minNewTokens,
                noRepeatNgram, e);
    }

    /** One line for logs and result files. */
    public String describe() {
        StringBuilder s = new StringBuilder();
        if (numBeams > 1) s.append("beam ").append(numBeams).append(", length penalty ").append(lengthPenalty);
        else if (temperature == 0) s.append("greedy");
        else s.append("temperature ").append(temperature).append(", top-p ").append(topP).append(", top-k ").append(topK).append(", seed ").append(seed);
        s.append(", ").append(minNewTokens).append("-").append(maxNewTokens).append(" new tokens");
        if (noRepeatNgram > 0) s.append(", no repeated ").append(noRepeatNgram).append("-grams");
        if (numBeams > 1 && earlyStopping != EarlyStopping.FALSE) s.append(", early stopping ").append(earlyStopping.name().toLowerCase());
        return s.toString();
    }

    /** LaVIN's evaluation decoding: temperature 0.1, top-p 0.75. */
    public static GenerationConfig lavin(int maxNewTokens, long seed) {
        return new GenerationConfig(maxNewTokens, 0.1, 0, 0.75, seed, List.of(), true);
    }
}
