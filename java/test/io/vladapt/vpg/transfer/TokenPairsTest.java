package io.vladapt.vpg.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.io.BpeTokenizerBuilder;
import io.vladapt.io.TextTokenizer;
import io.vladapt.io.WordTokenizerBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Converter training pairs: by id, by position (official heuristic), by shared characters (ours). */
class TokenPairsTest {
    @TempDir
    Path tmp;

    static final List<String> CAPTIONS = List.of("a big red circle above a small blue square", "two shapes on a white background",
            "a purple triangle in the top left corner", "there is a small green square below a big yellow circle");

    @Test
    void positionalKeepsOnlyEqualLengthsAndCharAlignedKeepsEverything() throws Exception {
        List<String> corpus = new ArrayList<>();
        for (int i = 0; i < 20; i++) corpus.addAll(CAPTIONS);
        WordTokenizerBuilder.write(tmp.resolve("word"), corpus, 1);
        BpeTokenizerBuilder.write(tmp.resolve("bpe"), corpus, 280);
        try (TextTokenizer w = TextTokenizer.load(tmp.resolve("word")); TextTokenizer b = TextTokenizer.load(tmp.resolve("bpe"))) {
            TokenPairs same = TokenPairs.sameTokenizer(CAPTIONS, w);
            assertEquals(4, same.source().size());
            assertArrayEquals(same.source().get(0), same.target().get(0));

            TokenPairs pos = TokenPairs.positional(CAPTIONS, w, b);
            TokenPairs chars = TokenPairs.charAligned(CAPTIONS, w, b);
            int equal = 0;
            for (String c : CAPTIONS) if (w.encode(c, true).length == b.encode(c, true).length) equal++;
            assertEquals(equal, pos.source().size());
            assertEquals(CAPTIONS.size() - equal, pos.dropped());
            assertEquals(CAPTIONS.size(), chars.source().size(), "character alignment drops no caption");
            assertEquals(0, chars.dropped());

            // each word pairs with exactly the BPE pieces that spell it: decode them back and compare
            String caption = CAPTIONS.get(0);
            TextTokenizer.TokenSpans ws = w.encodeWithSpans(caption, true);
            long[] src = chars.source().get(0), tgt = chars.target().get(0);
            assertEquals(w.bosId(), src[0]);
            assertEquals(b.bosId(), tgt[0]);
            for (int i = 1; i < ws.ids().length; i++) {
                String word = caption.substring(ws.starts()[i], ws.ends()[i]).strip();
                StringBuilder pieces = new StringBuilder();
                for (int k = 1; k < src.length; k++) if (src[k] == ws.ids()[i]) pieces.append(b.decode(new long[] {tgt[k]}));
                assertTrue(pieces.toString().replace(" ", "").contains(word), "word '" + word + "' paired with '" + pieces + "'");
            }
        }
    }
}
