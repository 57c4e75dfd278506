package io.vladapt.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-written cases of what the COCO pipeline (Stanford PTBTokenizer -lowerCase, then its filter) produces. */
class CaptionTokenizerTest {
    static void check(String expected, String caption) {
        assertEquals(expected, CaptionTokenizer.tokenize(caption), "[" + caption + "]");
    }

    @Test
    void lowerCasesAndDropsSentencePunctuation() {
        check("a man riding a wave on top of a surfboard", "A man riding a wave on top of a surfboard.");
        check("wait what", "Wait... what?!");
        check("a man tall and thin", "A man -- tall and thin ;");
        check("stop sign on a pole", "\"Stop\" sign: on a pole");
        check("multiple spaces and newline", "  multiple   spaces\nand\tnewline ");
        check("", "");
        check("", " ... ! ");
    }

    @Test
    void splitsCliticsTheTreebankWay() {
        check("i do n't know", "I don't know");
        check("ca n't stop wo n't stop", "Can't stop, won't stop");
        check("the dog 's ball", "The dog's ball");
        check("they 're here are n't they", "They're here, aren't they?");
        check("it 's a cat 's toy", "It\u2019s a cat\u2019s toy");
        check("the dogs toys", "The dogs' toys");
        check("let 's go", "Let's go");
        check("at five o'clock", "at five o'clock");
        check("the dog 's", "the dog 's");
    }

    @Test
    void keepsWordInternalPunctuation() {
        check("a black-and-white photo of a t-shirt", "A black-and-white photo of a T-shirt.");
        check("1,000 people walk 3.5 miles at 10:30", "1,000 people walk 3.5 miles at 10:30.");
        check("the u.s. flag", "The U.S. flag.");
        check("mr. smith and dr. jones", "Mr. Smith and Dr. Jones");
        check("at&t store", "AT&T store");
        check("dogs cats and birds", "dogs,cats, and birds");
    }

    @Test
    void bracketsStayAsTheirLowerCasedPtbNames() {
        // Stanford escapes "(" as -LRB- before lower-casing; the filter list only has the upper-case name.
        check("a man -lrb- left -rrb- and a woman", "A man (left) and a woman");
        check("-lrb- sic -rrb- -lcb- x -rcb- -lrb- y -rrb-", "[sic] {x} <y>");
    }

    @Test
    void symbolsBecomeTokens() {
        check("50 % off $ 5 # 1", "50% off $5 #1");
        assertEquals(List.of("a", "cat", ".", "."), CaptionTokenizer.ptbTokens("A cat. ."));
        assertEquals(List.of("``", "hi", "''", "-lrb-", "--", "..."), CaptionTokenizer.ptbTokens("\"hi\" ( \u2014 \u2026"));
    }

    @Test
    void filterListIsPycocoevalcapsVerbatim() {
        assertEquals(17, CaptionTokenizer.DROPPED.size());
        assertEquals(true, CaptionTokenizer.DROPPED.contains("-LRB-"));
        assertEquals(false, CaptionTokenizer.DROPPED.contains("-lrb-"));
    }
}
