package io.vladapt.eval;

import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The choice a generated text names. LETTER (LaVIN's): the first match of {@code The answer is ([A-Z]).};
 * CHOICE (for the W output format): {@code The answer is <text>.} where the text equals one choice
 * (case and spacing ignored).
 * Unparseable (or out-of-range) answers count as wrong by default (LLaVA's policy); LaVIN replaces them
 * by a random choice, available here with a fixed seed so that results can be repeated.
 */
public final class AnswerParser {
    private static final Pattern ANSWER = Pattern.compile("The answer is ([A-Z]).");
    private static final Pattern CHOICE_TEXT = Pattern.compile("The answer is (.+?)\\s*\\.");

    public enum Fallback { WRONG, RANDOM }

    public enum Mode { LETTER, CHOICE }

    private final Mode mode;
    private final Fallback fallback;
    private final Random random;

    public AnswerParser(Fallback fallback, long seed) {
        this(Mode.LETTER, fallback, seed);
    }

    public AnswerParser(Mode mode, Fallback fallback, long seed) {
        this.mode = mode;
        this.fallback = fallback;
        this.random = new Random(seed);
    }

    /** The chosen index, or -1 when unparseable and the policy counts it wrong. */
    public int parse(String generated, java.util.List<String> choices) {
        int i = mode == Mode.LETTER ? letter(generated, choices.size()) : choiceText(generated, choices);
        if (i >= 0) return i;
        return fallback == Fallback.RANDOM ? random.nextInt(choices.size()) : -1;
    }

    /** LETTER mode with only the number of choices known. */
    public int parse(String generated, int numChoices) {
        int i = letter(generated, numChoices);
        return i >= 0 ? i : fallback == Fallback.RANDOM ? random.nextInt(numChoices) : -1;
    }

    private static int letter(String generated, int numChoices) {
        Matcher m = ANSWER.matcher(generated);
        if (m.find()) {
            int i = m.group(1).charAt(0) - 'A';
            if (i < numChoices) return i;
        }
        return -1;
    }

    private static int choiceText(String generated, java.util.List<String> choices) {
        Matcher m = CHOICE_TEXT.matcher(generated);
        if (!m.find()) return -1;
        String said = norm(m.group(1));
        for (int i = 0; i < choices.size(); i++) if (norm(choices.get(i)).equals(said)) return i;
        return -1;
    }

    private static String norm(String s) {
        return s.strip().replaceAll("\\s+", " ").toLowerCase(java.util.Locale.ROOT);
    }

    /** The answer form a prompt format's output asks for: W writes the choice's text, every other output its letter. */
    public static Mode forFormat(String format) {
        return format.endsWith("-W") ? Mode.CHOICE : Mode.LETTER;
    }

    /** Whether the text names one of the choices in this mode (no fallback). */
    public static boolean names(Mode mode, String generated, java.util.List<String> choices) {
        return (mode == Mode.LETTER ? letter(generated, choices.size()) : choiceText(generated, choices)) >= 0;
    }

    /**
     * A warning when more than a fifth of the outputs name no choice in {@code mode}, saying which
     * {@code --answer} value fits them better; null when parsing went well.
     */
    public static String unparsedWarning(Mode mode, java.util.List<String> outputs, java.util.List<java.util.List<String>> choices) {
        int n = outputs.size(), ok = 0, other = 0;
        Mode alt = mode == Mode.LETTER ? Mode.CHOICE : Mode.LETTER;
        for (int i = 0; i < n; i++) {
            if (names(mode, outputs.get(i), choices.get(i))) ok++;
            if (names(alt, outputs.get(i), choices.get(i))) other++;
        }
        int bad = n - ok;
        if (n == 0 || bad * 5 <= n) return null;
        String msg = String.format("warning: %d of %d answers (%.1f%%) name no choice as %s, and count as wrong", bad, n, 100.0 * bad / n,
                describe(mode));
        if (other > ok) return msg + String.format("; %d name one as %s: use --answer %s", other, describe(alt), option(alt));
        return msg + "; check --format and the outputs in the predictions file";
    }

    private static String describe(Mode m) {
        return m == Mode.LETTER ? "a letter (\"The answer is B.\")" : "choice text (\"The answer is red.\")";
    }

    /** The {@code --answer} value of a mode. */
    public static String option(Mode m) {
        return m == Mode.LETTER ? "letter" : "choice";
    }

    public static boolean parseable(String generated) {
        return ANSWER.matcher(generated).find();
    }
}
