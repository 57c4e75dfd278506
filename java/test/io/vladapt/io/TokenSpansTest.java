package io.vladapt.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.io.TextTokenizer.TokenSpans;
import io.vladapt.testutil.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Character spans of token ids on the fixture tokenizers (byte-level BPE tokenizer.json through DJL,
 * LLaMA-style SentencePiece with byte fallback): ids are those of encode, spans are ordered, BOS is
 * empty, and the text under the spans of a token (or of the byte tokens of one character) is what
 * decoding those ids gives.
 */
class TokenSpansTest {
    static final List<String> TEXTS = List.of("the red circle is above the blue square.", "Hello world", "café über straße",
            "数字图像", "rocket 🚀! x", "  leading and   inner   spaces  ", "tab\tnew\nline", "", "The answer is A.",
            "<s>special</s> tokens");

    @Test
    void hfSpansCoverDecodedTokens() {
        try (TextTokenizer tok = TextTokenizer.load(Fixtures.dir("tokenizer-bpe"))) {
            for (String t : TEXTS) checkSpans(tok, t);
        }
    }

    @Test
    void sentencePieceSpansCoverDecodedTokens() {
        try (TextTokenizer tok = TextTokenizer.load(Fixtures.dir("tokenizer-sp"))) {
            for (String t : TEXTS) checkSpans(tok, t);
        }
    }

    @Test
    void hfSpansAreJavaIndicesAfterAnEmoji() {
        // DJL reports code points; "!" is code point 8 but Java index 9 after the two-unit emoji
        try (TextTokenizer tok = TextTokenizer.load(Fixtures.dir("tokenizer-bpe"))) {
            String text = "rocket 🚀! x";
            TokenSpans s = tok.encodeWithSpans(text, false);
            int bang = Arrays.asList(spanTexts(text, s)).indexOf("!");
            assertEquals(9, s.starts()[bang], "span of '!' in " + Arrays.toString(spanTexts(text, s)));
            assertEquals(" x", text.substring(s.starts()[s.size() - 2], s.ends()[s.size() - 1]));
        }
    }

    @Test
    void sentencePieceSpansStartAtTheWordAndSkipTheDummyPrefix() {
        try (SentencePieceTokenizer tok = SentencePieceTokenizer.load(Fixtures.dir("tokenizer-sp").resolve("tokenizer.model"))) {
            String text = "the red circle";
            TokenSpans s = tok.encodeWithSpans(text, false);
            assertEquals(0, s.starts()[0], "the dummy prefix adds no text before the first word");
            assertEquals(text.length(), s.ends()[s.size() - 1]);
            for (int i = 0; i < s.size(); i++) {
                String piece = tok.piece(s.ids()[i]).replace('\u2581', ' ');
                if (i == 0) piece = piece.stripLeading();
                assertEquals(piece, text.substring(s.starts()[i], s.ends()[i]), "piece " + i);
            }
        }
    }

    @Test
    void collapsedSpaceRunsBelongToTheNextPiece(@TempDir Path dir) throws IOException {
        // the fixture keeps whitespace as is (as LLaMA's model does); a second normalizer_spec field
        // appended to the protobuf turns on remove_extra_whitespaces (field 4), as a model trained with it has
        byte[] model = Files.readAllBytes(Fixtures.dir("tokenizer-sp").resolve("tokenizer.model"));
        byte[] extra = {0x1A, 0x02, 0x20, 0x01};
        Path file = dir.resolve("tokenizer.model");
        Files.write(file, java.nio.ByteBuffer.allocate(model.length + 4).put(model).put(extra).array());
        try (SentencePieceTokenizer tok = SentencePieceTokenizer.load(file)) {
            String text = "  red   circle  ";
            assertEquals("red circle", tok.decode(tok.encode(text, false)), "runs collapsed, ends stripped");
            TokenSpans s = tok.encodeWithSpans(text, false);
            assertEquals(2, s.starts()[0], "leading spaces belong to no token");
            assertEquals(14, s.ends()[s.size() - 1], "nor do trailing ones");
            assertEquals(List.of("red", "   circle"), List.of(spanTexts(text, s)), "the kept space covers its run");
            for (String t : TEXTS) checkSpans(tok, t);
        }
    }

    static String[] spanTexts(String text, TokenSpans s) {
        String[] out = new String[s.size()];
        for (int i = 0; i < out.length; i++) out[i] = text.substring(s.starts()[i], s.ends()[i]);
        return out;
    }

    /** The invariants every tokenizer's spans keep; see the class comment. */
    static void checkSpans(TextTokenizer tok, String text) {
        TokenSpans s = tok.encodeWithSpans(text, true);
        String where = "'" + text + "' spans " + Arrays.toString(spanTexts(text, s));
        assertArrayEquals(tok.encode(text, true), s.ids(), where);
        assertEquals(tok.bosId(), s.ids()[0], where);
        assertEquals(s.starts()[0], s.ends()[0], "BOS has an empty span: " + where);
        boolean[] covered = new boolean[text.length()];
        int prevEnd = 0;
        for (int i = 1; i < s.size(); ) {
            // a group: tokens whose spans overlap (the bytes of one character split over several tokens)
            int j = i, end = s.ends()[i];
            while (j + 1 < s.size() && s.starts()[j + 1] < end) end = Math.max(end, s.ends()[++j]);
            int start = s.starts()[i];
            assertTrue(prevEnd <= start && start <= end && end <= text.length(), "ordered, inside the text: " + where);
            String under = text.substring(start, end);
            String decoded = tok.decode(Arrays.copyOfRange(s.ids(), i, j + 1));
            boolean special = j == i && (s.ids()[i] == tok.bosId() || s.ids()[i] == tok.eosId());
            if (!special) assertEquals(squash(under), squash(decoded), "tokens " + i + ".." + j + " of " + where);
            else assertEquals(text.substring(start, end), s.ids()[i] == tok.bosId() ? "<s>" : "</s>", "special token written in the text");
            Arrays.fill(covered, start, end, true);
            prevEnd = end;
            i = j + 1;
        }
        for (int k = 0; k < text.length(); k++) {
            if (!Character.isWhitespace(text.charAt(k))) assertTrue(covered[k], "char " + k + " covered: " + where);
        }
    }

    /** Tokenizers differ in how a token shows the space before it; compare without it. */
    static String squash(String s) {
        return s.strip().replaceAll("\\s+", " ");
    }
}
