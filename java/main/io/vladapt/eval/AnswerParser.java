package io.vladapt.eval;

import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The choice a generated text names: the first match of LaVIN's pattern {@code The answer is ([A-Z]).}
 * Unparseable (or out-of-range) answers count as wrong by default (LLaVA's policy); LaVIN replaces them
 * by a random choice, available here with a fixed seed so that results can be repeated.
 */
public final class AnswerParser {
    private static final Pattern ANSWER = Pattern.compile("The answer is ([A-Z]).");

    public enum Fallback { WRONG, RANDOM }

    private final Fallback fallback;
    private final Random random;

    public AnswerParser(Fallback fallback, long seed) {
        this.fallback = fallback;
        this.random = new Random(seed);
    }

    /** The chosen index, or -1 when unparseable and the policy counts it wrong. */
    public int parse(String generated, int numChoices) {
        Matcher m = ANSWER.matcher(generated);
        if (m.find()) {
            int i = m.group(1).charAt(0) - 'A';
            if (i < numChoices) return i;
        }
        return fallback == Fallback.RANDOM ? random.nextInt(numChoices) : -1;
    }

    public static boolean parseable(String generated) {
        return ANSWER.matcher(generated).find();
    }
}
