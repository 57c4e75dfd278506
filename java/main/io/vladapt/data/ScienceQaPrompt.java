package io.vladapt.data;

import java.util.List;

/**
 * The prompt formats of the official ScienceQA scripts ("input-output", e.g. LaVIN's QCM-ALE), split
 * into the model input (ending with the response keyword) and the target the model learns to write.
 * Inputs: CQM, QCM, QCML, QCME, QCMLE, QCLM, QCEM, QCLEM (Q question, C context, M options, L lecture,
 * E solution). Outputs: A, AL, AE, ALE, AEL, LA, EA, LEA, ELA. As in the official code, AL appends the
 * solution and AE the lecture (their names are swapped there; kept so that numbers stay comparable).
 * One output is VLAdapt's own: W, "The answer is {choice text}." (parse it with
 * {@link io.vladapt.eval.AnswerParser.Mode#CHOICE}): a tiny language model learns to copy an option's
 * words in minutes but needs far longer to map an option to its letter (see the demo).
 * Newlines in lectures and solutions become a literal backslash-n, double spaces are collapsed, and a
 * trailing "BECAUSE:" with nothing after it is removed (LaVIN's strip leaves it).
 *
 * @param format       e.g. "QCM-ALE"
 * @param keyword      "Response:" (LaVIN) or "Answer:" (the official ScienceQA scripts)
 * @param useCaption   append captions.json's caption to the context
 */
public record ScienceQaPrompt(String format, String keyword, boolean useCaption) {
    private static final List<String> INPUTS = List.of("CQM", "QCM", "QCML", "QCME", "QCMLE", "QCLM", "QCEM", "QCLEM");
    private static final List<String> OUTPUTS = List.of("A", "AL", "AE", "ALE", "AEL", "LA", "EA", "LEA", "ELA", "W");

    public ScienceQaPrompt {
        String[] p = format.split("-");
        if (p.length != 2 || !INPUTS.contains(p[0]) || !OUTPUTS.contains(p[1])) {
            throw new IllegalArgumentException("prompt format '" + format + "': input one of " + INPUTS + ", output one of " + OUTPUTS);
        }
    }

    public static ScienceQaPrompt lavin() {
        return new ScienceQaPrompt("QCM-ALE", "Response:", false);
    }

    /** The model input, ending with the keyword. */
    public String input(ScienceQaProblem p, String caption) {
        String q = p.question(), c = context(p, caption), m = options(p), l = escape(p.lecture()), e = escape(p.solution());
        String in = switch (format.split("-")[0]) {
            case "CQM" -> "Context: " + c + "\nQuestion: " + q + "\nOptions: " + m + "\n";
            case "QCM" -> "Question: " + q + "\nContext: " + c + "\nOptions: " + m + "\n";
            case "QCML" -> "Question: " + q + "\nContext: " + c + "\nOptions: " + m + "\nBECAUSE: " + l + "\n";
            case "QCME" -> "Question: " + q + "\nContext: " + c + "\nOptions: " + m + "\nBECAUSE: " + e + "\n";
            case "QCMLE" -> "Question: " + q + "\nContext: " + c + "\nOptions: " + m + "\nBECAUSE: " + l + " " + e + "\n";
            case "QCLM" -> "Question: " + q + "\nContext: " + c + "\nBECAUSE: " + l + "\nOptions: " + m + "\n";
            case "QCEM" -> "Question: " + q + "\nContext: " + c + "\nBECAUSE: " + e + "\nOptions: " + m + "\n";
            default -> "Question: " + q + "\nContext: " + c + "\nBECAUSE: " + l + " " + e + "\nOptions: " + m + "\n";
        };
        return tidy(in + keyword);
    }

    /** What the model should write after the input. */
    public String target(ScienceQaProblem p) {
        String a = "The answer is " + p.answerLetter() + ".", l = escape(p.lecture()), e = escape(p.solution());
        String out = switch (format.split("-")[1]) {
            case "A" -> a;
            case "AL" -> a + " BECAUSE: " + e;
            case "AE" -> a + " BECAUSE: " + l;
            case "ALE" -> a + " BECAUSE: " + l + " " + e;
            case "AEL" -> a + " BECAUSE: " + e + " " + l;
            case "LA" -> l + " " + a;
            case "EA" -> e + " " + a;
            case "LEA" -> l + " " + e + " " + a;
            case "W" -> "The answer is " + p.choices().get(p.answer()) + ".";
            default -> e + " " + l + " " + a;
        };
        out = tidy(out);
        if (out.endsWith("BECAUSE:")) out = out.substring(0, out.length() - "BECAUSE:".length()).strip();
        return out;
    }

    private String context(ScienceQaProblem p, String caption) {
        String c = (p.hint() + " " + (useCaption && caption != null ? caption : "")).strip();
        return c.isEmpty() ? "N/A" : c;
    }

    static String options(ScienceQaProblem p) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < p.choices().size(); i++) {
            if (i > 0) s.append(' ');
            s.append('(').append((char) ('A' + i)).append(") ").append(p.choices().get(i));
        }
        return s.toString();
    }

    private static String escape(String s) {
        return s.replace("\n", "\\n");
    }

    private static String tidy(String s) {
        return s.replace("  ", " ").strip();
    }
}
