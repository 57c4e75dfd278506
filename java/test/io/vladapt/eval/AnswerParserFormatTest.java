package io.vladapt.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The answer form follows the prompt format, and eval says so when most answers do not parse. */
class AnswerParserFormatTest {
    static final List<String> CHOICES = List.of("red", "blue", "green");

    @Test
    void aWOutputFormatImpliesChoiceAnswers() {
        assertEquals(AnswerParser.Mode.CHOICE, AnswerParser.forFormat("QCM-W"));
        assertEquals(AnswerParser.Mode.CHOICE, AnswerParser.forFormat("CQM-W"));
        assertEquals(AnswerParser.Mode.LETTER, AnswerParser.forFormat("QCM-ALE"));
        assertEquals(AnswerParser.Mode.LETTER, AnswerParser.forFormat("QCM-A"));
        assertEquals(1, new AnswerParser(AnswerParser.forFormat("QCM-W"), AnswerParser.Fallback.WRONG, 0).parse("The answer is blue.", CHOICES));
    }

    @Test
    void moreThanAFifthUnparsedWarnsAndNamesTheOptionThatFits() {
        List<List<String>> choices = Collections.nCopies(10, CHOICES);
        List<String> choiceText = Collections.nCopies(10, "The answer is green.");
        String w = AnswerParser.unparsedWarning(AnswerParser.Mode.LETTER, choiceText, choices);
        assertTrue(w != null && w.contains("10 of 10") && w.endsWith("use --answer choice"), w);
        assertNull(AnswerParser.unparsedWarning(AnswerParser.Mode.CHOICE, choiceText, choices));

        List<String> letters = Collections.nCopies(10, "The answer is C.");
        String l = AnswerParser.unparsedWarning(AnswerParser.Mode.CHOICE, letters, choices);
        assertTrue(l != null && l.endsWith("use --answer letter"), l);

        // two of ten unparsed is a fifth, not more: no warning; three is
        List<String> mostly = new java.util.ArrayList<>(Collections.nCopies(8, "The answer is A."));
        mostly.addAll(List.of("I think so", "maybe"));
        assertNull(AnswerParser.unparsedWarning(AnswerParser.Mode.LETTER, mostly, choices));
        mostly.set(0, "no idea");
        String gibberish = AnswerParser.unparsedWarning(AnswerParser.Mode.LETTER, mostly, choices);
        assertTrue(gibberish != null && gibberish.contains("3 of 10") && gibberish.contains("check --format"), gibberish);
    }
}
