package io.vladapt.eval;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The official VQA accuracy (GT-Vision-Lab/VQA {@code vqaEval.py}): per question, the mean over the leave-one-out
 * subsets of the ground-truth answers (9 of 10) of min(1, matches / 3); overall and per answer and question type,
 * the mean over questions. Comparisons follow the scorer exactly (see {@link VqaNormalizer}): the prediction is
 * fully normalised, the ground-truth answers only get the punctuation step, and only when they are not all
 * identical; answers are compared as strings, case-sensitively. Every answer counts as its own annotator even
 * when two annotators wrote the same text (the scorer tells them apart by their answer ids).
 *
 * <p>Values are exact: each question's accuracy is a fraction k / (3 * answers), sums are kept as fractions,
 * and the doubles reported are those fractions rounded once.
 */
public final class VqaAccuracy {
    /** One question with its ground-truth answers (10 in VQA v2) and the types the report groups by. */
    public record Question(String questionId, List<String> answers, String questionType, String answerType) {}

    /** What a question without a prediction does: count as wrong (the default) or stop the evaluation. */
    public enum Missing { WRONG, FAIL }

    /**
     * Accuracies in percent, unrounded: overall, per answer type, per question type (first-seen order), per
     * question (input order). {@code missing}: questions that had no prediction and counted as wrong.
     */
    public record Result(double overall, Map<String, Double> perAnswerType, Map<String, Double> perQuestionType,
                         Map<String, Double> perQuestion, List<String> missing) {
        /** Rounded as the official report prints it: Python's {@code round(x, 2)} (half-even on the double). */
        public static double reported(double percent) {
            return new BigDecimal(percent).setScale(2, RoundingMode.HALF_EVEN).doubleValue();
        }
    }

    private VqaAccuracy() {}

    public static Result score(List<Question> questions, Map<String, String> predictions) {
        return score(questions, predictions, Missing.WRONG);
    }

    public static Result score(List<Question> questions, Map<String, String> predictions, Missing missing) {
        check(questions, predictions, missing);
        Fraction total = Fraction.ZERO;
        Map<String, Mean> byAnswerType = new LinkedHashMap<>(), byQuestionType = new LinkedHashMap<>();
        Map<String, Double> perQuestion = new LinkedHashMap<>();
        List<String> absent = new ArrayList<>();
        for (Question q : questions) {
            String predicted = predictions.get(q.questionId());
            if (predicted == null) absent.add(q.questionId());
            Fraction acc = predicted == null ? Fraction.ZERO : accuracy(q.answers(), predicted);
            perQuestion.put(q.questionId(), acc.percent());
            total = total.plus(acc);
            byAnswerType.computeIfAbsent(q.answerType(), k -> new Mean()).add(acc);
            byQuestionType.computeIfAbsent(q.questionType(), k -> new Mean()).add(acc);
        }
        return new Result(total.over(questions.size()).percent(), means(byAnswerType), means(byQuestionType), perQuestion, List.copyOf(absent));
    }

    /** One question's accuracy as a fraction of 1. */
    static Fraction accuracy(List<String> answers, String predicted) {
        String res = VqaNormalizer.normalize(predicted);
        boolean allSame = new HashSet<>(answers).size() == 1;
        List<String> gts = allSame ? answers : answers.stream().map(VqaNormalizer::punctuation).toList();
        int matching = 0;
        for (String g : gts) if (g.equals(res)) matching++;
        // Leaving out annotator i removes one match exactly when i's answer matches.
        long sum = 0;
        for (String g : gts) sum += Math.min(3, g.equals(res) ? matching - 1 : matching);
        return new Fraction(sum, 3L * gts.size());
    }

    private static Map<String, Double> means(Map<String, Mean> groups) {
        Map<String, Double> out = new LinkedHashMap<>();
        groups.forEach((k, m) -> out.put(k, m.sum.over(m.count).percent()));
        return out;
    }

    private static final class Mean {
        Fraction sum = Fraction.ZERO;
        long count;

        void add(Fraction f) {
            sum = sum.plus(f);
            count++;
        }
    }

    private static void check(List<Question> questions, Map<String, String> predictions, Missing missing) {
        if (questions == null || predictions == null || missing == null) throw new IllegalArgumentException("questions, predictions and a policy are required");
        if (questions.isEmpty()) throw new IllegalArgumentException("no questions to score");
        Set<String> ids = new HashSet<>();
        for (Question q : questions) {
            String id = q.questionId();
            if (id == null) throw new IllegalArgumentException("a question has no id");
            if (!ids.add(id)) throw new IllegalArgumentException("question " + id + " appears twice");
            if (q.answers() == null || q.answers().isEmpty()) throw new IllegalArgumentException("question " + id + " has no ground-truth answers");
            if (q.answers().stream().anyMatch(java.util.Objects::isNull)) throw new IllegalArgumentException("question " + id + " has a null ground-truth answer");
            if (q.questionType() == null || q.answerType() == null) throw new IllegalArgumentException("question " + id + " lacks its question or answer type");
            if (missing == Missing.FAIL && predictions.get(id) == null) throw new IllegalArgumentException("question " + id + " has no prediction");
        }
        for (String id : predictions.keySet()) {
            if (!ids.contains(id)) throw new IllegalArgumentException("prediction for unknown question " + id);
        }
    }

    /** A non-negative fraction in lowest terms; overflow throws rather than corrupting a score. */
    record Fraction(long num, long den) {
        static final Fraction ZERO = new Fraction(0, 1);

        Fraction {
            long g = gcd(num, den);
            num /= g;
            den /= g;
        }

        Fraction plus(Fraction o) {
            long g = gcd(den, o.den);
            long d = Math.multiplyExact(den / g, o.den);
            return new Fraction(Math.addExact(Math.multiplyExact(num, o.den / g), Math.multiplyExact(o.num, den / g)), d);
        }

        Fraction over(long n) {
            return new Fraction(num, Math.multiplyExact(den, n));
        }

        /** 100 * num / den, rounded once (exact while both sides stay below 2^53). */
        double percent() {
            return Math.multiplyExact(100L, num) / (double) den;
        }

        private static long gcd(long a, long b) {
            while (b != 0) {
                long t = a % b;
                a = b;
                b = t;
            }
            return a == 0 ? 1 : a;
        }
    }
}
