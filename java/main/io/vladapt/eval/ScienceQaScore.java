package io.vladapt.eval;

import io.vladapt.data.ScienceQaProblem;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * ScienceQA's accuracy table: NAT, SOC, LAN by subject; TXT (non-empty hint), IMG (has an image),
 * NO (neither); G1-6 and G7-12 by grade; Avg over all. TXT and IMG overlap.
 */
public final class ScienceQaScore {
    public static final List<String> CATEGORIES = List.of("NAT", "SOC", "LAN", "TXT", "IMG", "NO", "G1-6", "G7-12", "Avg");

    /** Correct and total counts per category. */
    public record Cell(int correct, int total) {
        public double accuracy() {
            return total == 0 ? Double.NaN : 100.0 * correct / total;
        }
    }

    private ScienceQaScore() {}

    public static boolean in(String category, ScienceQaProblem p) {
        return predicate(category).test(p);
    }

    private static Predicate<ScienceQaProblem> predicate(String c) {
        return switch (c) {
            case "NAT" -> p -> p.subject().equals("natural science");
            case "SOC" -> p -> p.subject().equals("social science");
            case "LAN" -> p -> p.subject().equals("language science");
            case "TXT" -> ScienceQaProblem::hasContext;
            case "IMG" -> ScienceQaProblem::hasImage;
            case "NO" -> p -> !p.hasContext() && !p.hasImage();
            case "G1-6" -> p -> p.gradeNumber() <= 6;
            case "G7-12" -> p -> p.gradeNumber() >= 7;
            case "Avg" -> p -> true;
            default -> throw new IllegalArgumentException("unknown ScienceQA category " + c);
        };
    }

    /** @param predicted per problem the chosen index, -1 for none */
    public static Map<String, Cell> table(List<ScienceQaProblem> problems, int[] predicted) {
        if (problems.size() != predicted.length) throw new IllegalArgumentException(problems.size() + " problems, " + predicted.length + " predictions");
        Map<String, Cell> t = new LinkedHashMap<>();
        for (String c : CATEGORIES) {
            Predicate<ScienceQaProblem> in = predicate(c);
            int correct = 0, total = 0;
            for (int i = 0; i < predicted.length; i++) {
                ScienceQaProblem p = problems.get(i);
                if (!in.test(p)) continue;
                total++;
                if (predicted[i] == p.answer()) correct++;
            }
            t.put(c, new Cell(correct, total));
        }
        return t;
    }

    /** A printable row: "NAT 91.20 | SOC ..." style, fixed width, NaN for empty categories. */
    public static String row(String label, Map<String, Cell> t) {
        StringBuilder s = new StringBuilder(String.format("%-28s", label));
        for (String c : CATEGORIES) s.append(String.format(" %7.2f", t.get(c).accuracy()));
        return s.toString();
    }

    public static String header() {
        StringBuilder s = new StringBuilder(String.format("%-28s", "Method"));
        for (String c : CATEGORIES) s.append(String.format(" %7s", c));
        return s.toString();
    }
}
