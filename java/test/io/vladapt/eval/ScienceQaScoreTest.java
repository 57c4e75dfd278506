package io.vladapt.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vladapt.data.ScienceQaProblem;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The scorer on a hand-made set whose category totals are known. */
class ScienceQaScoreTest {
    static ScienceQaProblem p(String subject, String hint, boolean image, int grade, int answer) {
        return new ScienceQaProblem("x", "q", List.of("a", "b", "c"), answer, hint, image ? "image.png" : null, "", "grade" + grade,
                subject, "", "", "", "", "", "test");
    }

    @Test
    void categoryTotalsAndAccuracies() {
        List<ScienceQaProblem> ps = new ArrayList<>();
        ps.add(p("natural science", "", true, 1, 0));        // NAT IMG G1-6
        ps.add(p("natural science", "hint", true, 8, 1));    // NAT TXT IMG G7-12
        ps.add(p("social science", "hint", false, 3, 2));    // SOC TXT G1-6
        ps.add(p("language science", "", false, 12, 0));     // LAN NO G7-12
        ps.add(p("language science", "", false, 6, 1));      // LAN NO G1-6
        int[] predicted = {0, 2, 2, -1, 1};                  // right, wrong, right, unparseable, right
        Map<String, ScienceQaScore.Cell> t = ScienceQaScore.table(ps, predicted);
        assertEquals(new ScienceQaScore.Cell(1, 2), t.get("NAT"));
        assertEquals(new ScienceQaScore.Cell(1, 1), t.get("SOC"));
        assertEquals(new ScienceQaScore.Cell(1, 2), t.get("LAN"));
        assertEquals(new ScienceQaScore.Cell(1, 2), t.get("TXT"));
        assertEquals(new ScienceQaScore.Cell(1, 2), t.get("IMG"));
        assertEquals(new ScienceQaScore.Cell(1, 2), t.get("NO"));
        assertEquals(new ScienceQaScore.Cell(3, 3), t.get("G1-6"));
        assertEquals(new ScienceQaScore.Cell(0, 2), t.get("G7-12"));
        assertEquals(new ScienceQaScore.Cell(3, 5), t.get("Avg"));
        assertEquals(60.0, t.get("Avg").accuracy(), 1e-9);
    }

    @Test
    void answerParsingFollowsLavinsPatternAndPolicy() {
        AnswerParser wrong = new AnswerParser(AnswerParser.Fallback.WRONG, 0);
        assertEquals(1, wrong.parse("The answer is B. BECAUSE: ...", 3));
        assertEquals(2, wrong.parse("The answer is C .", 3), "a word-level detokenizer's space before the period");
        assertEquals(-1, wrong.parse("I think B", 3));
        assertEquals(-1, wrong.parse("The answer is D.", 3), "out of range counts as unparseable");
        AnswerParser random = new AnswerParser(AnswerParser.Fallback.RANDOM, 42), again = new AnswerParser(AnswerParser.Fallback.RANDOM, 42);
        for (int i = 0; i < 20; i++) assertEquals(again.parse("??", 4), random.parse("??", 4), "seeded fallback repeats");
    }
}
