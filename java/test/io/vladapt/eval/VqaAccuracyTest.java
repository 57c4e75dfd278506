package io.vladapt.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vladapt.testutil.Fixtures;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** VQA accuracy against the official vqaEval.py's numbers (fixtures/metrics/vqa.json), and hand-made cases. */
class VqaAccuracyTest {
    static JsonNode fixture() throws IOException {
        return new ObjectMapper().readTree(Fixtures.dir("metrics").resolve("vqa.json").toFile());
    }

    static List<VqaAccuracy.Question> questions(JsonNode root) {
        List<VqaAccuracy.Question> out = new ArrayList<>();
        for (JsonNode q : root.get("questions")) {
            List<String> answers = new ArrayList<>();
            q.get("answers").forEach(a -> answers.add(a.asText()));
            out.add(new VqaAccuracy.Question(q.get("question_id").asText(), answers, q.get("question_type").asText(), q.get("answer_type").asText()));
        }
        return out;
    }

    static Map<String, String> predictions(JsonNode root) {
        Map<String, String> out = new LinkedHashMap<>();
        for (JsonNode p : root.get("predictions")) out.put(p.get("question_id").asText(), p.get("answer").asText());
        return out;
    }

    /** The exact value "num/den" of the fixture, in percent, rounded once (as VqaAccuracy rounds). */
    static double percent(JsonNode exact) {
        String[] nd = exact.get("exact").asText().split("/");
        return 100 * Long.parseLong(nd[0]) / (double) Long.parseLong(nd[1]);
    }

    static void assertSummary(String what, JsonNode expected, double actual) {
        assertEquals(percent(expected), actual, 0.0, what + ": exact value");
        assertEquals(expected.get("reported").asDouble(), VqaAccuracy.Result.reported(actual), 0.0, what + ": reported (2 decimals)");
    }

    @Test
    void matchesTheOfficialScorer() throws IOException {
        JsonNode root = fixture();
        VqaAccuracy.Result r = VqaAccuracy.score(questions(root), predictions(root), VqaAccuracy.Missing.FAIL);
        JsonNode e = root.get("expected");
        assertEquals(26, r.perQuestion().size());
        e.get("per_question").fields().forEachRemaining(q -> {
            double actual = r.perQuestion().get(q.getKey());
            assertSummary("question " + q.getKey(), q.getValue(), actual);
            // The scorer sums floats (0.6 comes out as 0.5999999999999999); we keep fractions.
            assertEquals(q.getValue().get("accuracy").asDouble(), actual / 100, 1e-15, "question " + q.getKey());
        });
        assertSummary("overall", e.get("overall"), r.overall());
        assertEquals(e.get("per_answer_type").size(), r.perAnswerType().size());
        e.get("per_answer_type").fields().forEachRemaining(t -> assertSummary("answer type " + t.getKey(), t.getValue(), r.perAnswerType().get(t.getKey())));
        assertEquals(e.get("per_question_type").size(), r.perQuestionType().size());
        e.get("per_question_type").fields().forEachRemaining(t -> assertSummary("question type " + t.getKey(), t.getValue(), r.perQuestionType().get(t.getKey())));
        assertEquals(78.08, VqaAccuracy.Result.reported(r.overall()), 0.0, "the fixture is the one this test was written against");
    }

    @Test
    void normalisationMatchesTheOfficialScorerProbeByProbe() throws IOException {
        JsonNode probes = fixture().get("normalization");
        assertTrue(probes.size() > 150, "hand-picked probes plus every contraction and number word");
        for (JsonNode p : probes) {
            String in = p.get("in").asText();
            assertEquals(p.get("punctuation").asText(), VqaNormalizer.punctuation(in), "punctuation of [" + in + "]");
            assertEquals(p.get("normalized").asText(), VqaNormalizer.normalize(in), "normalisation of [" + in + "]");
        }
    }

    @Test
    void normalisationCases() {
        assertEquals("2", VqaNormalizer.normalize("Two"));
        assertEquals("10", VqaNormalizer.normalize("The Ten"));
        assertEquals("0", VqaNormalizer.normalize("none"));
        assertEquals("dog", VqaNormalizer.normalize("a dog"));
        assertEquals("apple", VqaNormalizer.normalize("an apple"));
        assertEquals("yes", VqaNormalizer.normalize("yes."));
        assertEquals("yes", VqaNormalizer.normalize("yes?"));
        assertEquals("don't", VqaNormalizer.normalize("dont"));
        assertEquals("don't", VqaNormalizer.normalize("don't"), "apostrophes are not punctuation here");
        assertEquals("1000", VqaNormalizer.normalize("1,000"));
        assertEquals("2.5", VqaNormalizer.normalize("2.5"));
        assertEquals("red car", VqaNormalizer.normalize("  red \t  car\n"));
        assertEquals("yes", VqaNormalizer.normalize("\u00a0yes\u00a0"), "Python's strip and split treat U+00A0 as a space");
        assertEquals("black white", VqaNormalizer.normalize("black/white"));
        assertEquals("t shirt", VqaNormalizer.normalize("T-Shirt"));
        assertEquals("a b", VqaNormalizer.punctuation("a, b"), "comma next to a space: deleted");
        assertEquals("a b", VqaNormalizer.punctuation("a,b"), "comma between letters: a space");
        assertEquals("x" + ".".repeat(8), VqaNormalizer.punctuation("x" + ".".repeat(40)), "at most 32 periods go");
        assertEquals("somebodyd", VqaNormalizer.normalize("somebody'd"), "the table's reversed entry");
        assertEquals("im", VqaNormalizer.normalize("Im"), "an upper-case key never matches after lower-casing");
    }

    static VqaAccuracy.Question question(String id, String... answers) {
        return new VqaAccuracy.Question(id, List.of(answers), "what color is the", "other");
    }

    static List<String> tenWith(String answer, int times, String rest) {
        List<String> a = new ArrayList<>(Collections.nCopies(times, answer));
        a.addAll(Collections.nCopies(10 - times, rest));
        return a;
    }

    @Test
    void partialAgreementFollowsTheLeaveOneOutAverage() {
        double[] expected = {0, 30, 60, 90, 100, 100};
        for (int k = 0; k < expected.length; k++) {
            VqaAccuracy.Question q = new VqaAccuracy.Question("q", tenWith("blue", k, "green"), "what color is the", "other");
            assertEquals(expected[k], VqaAccuracy.score(List.of(q), Map.of("q", "Blue")).overall(), 0.0, k + " of 10 annotators");
        }
    }

    @Test
    void unanimousAnswersAreComparedWithoutNormalisation() {
        // The scorer only touches ground-truth answers when they differ; a unanimous "Yes" never equals "yes".
        VqaAccuracy.Question q = new VqaAccuracy.Question("q", tenWith("Yes", 10, "Yes"), "is the", "yes/no");
        assertEquals(0.0, VqaAccuracy.score(List.of(q), Map.of("q", "yes")).overall());
        VqaAccuracy.Question mixed = new VqaAccuracy.Question("q", tenWith("the dog", 8, "dog"), "what is", "other");
        assertEquals(60.0, VqaAccuracy.score(List.of(mixed), Map.of("q", "The dog")).overall(), 1e-12, "only the 2 plain 'dog' match");
    }

    @Test
    void invariantToAnswerAndQuestionOrder() throws IOException {
        JsonNode root = fixture();
        List<VqaAccuracy.Question> qs = questions(root);
        VqaAccuracy.Result base = VqaAccuracy.score(qs, predictions(root));
        Random rnd = new Random(3);
        List<VqaAccuracy.Question> shuffled = new ArrayList<>();
        for (VqaAccuracy.Question q : qs) {
            List<String> a = new ArrayList<>(q.answers());
            Collections.shuffle(a, rnd);
            shuffled.add(new VqaAccuracy.Question(q.questionId(), a, q.questionType(), q.answerType()));
        }
        Collections.shuffle(shuffled, rnd);
        VqaAccuracy.Result moved = VqaAccuracy.score(shuffled, predictions(root));
        assertEquals(base.overall(), moved.overall(), 0.0);
        assertEquals(base.perAnswerType(), new HashMap<>(moved.perAnswerType()));
        assertEquals(base.perQuestionType(), new HashMap<>(moved.perQuestionType()));
        assertEquals(base.perQuestion(), new HashMap<>(moved.perQuestion()));
    }

    @Test
    void missingPredictionsCountAsWrongOrFailByChoice() {
        List<VqaAccuracy.Question> qs = List.of(question("1", tenWith("red", 10, "red").toArray(String[]::new)),
                question("2", tenWith("blue", 10, "blue").toArray(String[]::new)));
        VqaAccuracy.Result r = VqaAccuracy.score(qs, Map.of("1", "red"));
        assertEquals(50.0, r.overall());
        assertEquals(0.0, r.perQuestion().get("2"));
        assertEquals(List.of("2"), r.missing());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VqaAccuracy.score(qs, Map.of("1", "red"), VqaAccuracy.Missing.FAIL));
        assertTrue(e.getMessage().contains("question 2 has no prediction"), e.getMessage());
    }

    @Test
    void badInputNamesTheQuestion() {
        VqaAccuracy.Question ok = question("1", "red");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VqaAccuracy.score(List.of(ok), Map.of("1", "red", "99", "blue")));
        assertTrue(e.getMessage().contains("unknown question 99"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VqaAccuracy.score(List.of(ok, question("1", "blue")), Map.of()));
        assertTrue(e.getMessage().contains("question 1 appears twice"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VqaAccuracy.score(List.of(question("5")), Map.of()));
        assertTrue(e.getMessage().contains("question 5 has no ground-truth answers"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> VqaAccuracy.score(List.of(), Map.of()));
    }
}
