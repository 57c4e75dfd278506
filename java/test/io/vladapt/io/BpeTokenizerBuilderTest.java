package io.vladapt.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vladapt.io.TextTokenizer.TokenSpans;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A BPE tokenizer.json learned here loads in the Rust library, round-trips, and is deterministic. */
class BpeTokenizerBuilderTest {
    static List<String> corpus() {
        List<String> colours = List.of("red", "green", "blue", "yellow", "purple", "orange");
        List<String> shapes = List.of("circle", "square", "triangle");
        List<String> out = new ArrayList<>();
        Random r = new Random(3);
        for (int i = 0; i < 400; i++) {
            out.add("a " + (r.nextBoolean() ? "big " : "small ") + colours.get(r.nextInt(6)) + " " + shapes.get(r.nextInt(3))
                    + (r.nextBoolean() ? " above " : " to the left of ") + "a " + colours.get(r.nextInt(6)) + " "
                    + shapes.get(r.nextInt(3)) + ".");
        }
        return out;
    }

    @Test
    void loadsAndRoundTrips(@TempDir Path dir) throws IOException {
        int size = BpeTokenizerBuilder.write(dir, corpus(), 320);
        assertEquals(320, size);
        JsonNode json = new ObjectMapper().readTree(Files.readString(dir.resolve("tokenizer.json")));
        assertEquals("BPE", json.at("/model/type").asText());
        assertEquals(320 - 260, json.at("/model/merges").size());
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            assertEquals(320, tok.vocabSize());
            assertEquals(1, tok.bosId());
            assertEquals(2, tok.eosId());
            assertEquals(0, tok.padId());
            for (String t : List.of("a big red circle above a small blue square.", "unseen words: Zebra, 42 köpfe, 数字 🚀",
                    "  spaces   and\ttabs\nand newlines  ", "")) {
                long[] ids = tok.encode(t, true);
                assertEquals(1, ids[0]);
                assertEquals(t, tok.decode(ids), "round trip");
                TokenSpansTest.checkSpans(tok, t);
            }
            // frequent words became single tokens (with their leading space)
            assertEquals(1, tok.encode(" circle", false).length);
            assertTrue(tok.encode("a big red circle", false).length <= 4);
        }
    }

    @Test
    void postProcessorAddsBosWhenAsked(@TempDir Path dir) throws IOException {
        BpeTokenizerBuilder.write(dir, corpus(), 300);
        try (HuggingFaceTokenizer raw = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"), Map.of())) {
            long[] with = raw.encode("a red circle", true, false).getIds();
            long[] without = raw.encode("a red circle", false, false).getIds();
            assertEquals(1, with[0]);
            assertArrayEquals(without, Arrays.copyOfRange(with, 1, with.length));
        }
    }

    @Test
    void sameCorpusSameFileWhateverTheOrder(@TempDir Path dir) throws IOException {
        List<String> c = corpus();
        BpeTokenizerBuilder.write(dir.resolve("a"), c, 400);
        List<String> shuffled = new ArrayList<>(c);
        Collections.shuffle(shuffled, new Random(9));
        BpeTokenizerBuilder.write(dir.resolve("b"), shuffled, 400);
        assertArrayEquals(Files.readAllBytes(dir.resolve("a/tokenizer.json")), Files.readAllBytes(dir.resolve("b/tokenizer.json")));
    }

    @Test
    void segmentsDifferentlyFromTheWordTokenizer(@TempDir Path dir) throws IOException {
        BpeTokenizerBuilder.write(dir.resolve("bpe"), corpus(), 300);
        WordTokenizerBuilder.write(dir.resolve("word"), corpus(), 1);
        String text = "a big purple triangle to the left of a small orange square.";
        try (TextTokenizer bpe = TextTokenizer.load(dir.resolve("bpe")); TextTokenizer word = TextTokenizer.load(dir.resolve("word"))) {
            TokenSpans b = bpe.encodeWithSpans(text, false), w = word.encodeWithSpans(text, false);
            List<String> bt = List.of(TokenSpansTest.spanTexts(text, b)), wt = List.of(TokenSpansTest.spanTexts(text, w));
            assertNotEquals(wt, bt);
            assertTrue(bt.size() > wt.size(), "300 tokens cannot hold every word: " + bt + " vs " + wt);
            assertEquals(text, String.join("", bt), "byte-level spans tile the text");
        }
    }

    @Test
    void refusesAVocabularyWithoutRoomForTheBytes(@TempDir Path dir) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BpeTokenizerBuilder.write(dir, corpus(), 100));
        assertTrue(e.getMessage().contains("260"), e.getMessage());
    }
}
