package io.vladapt.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vladapt.testutil.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/**
 * Tokenizers against the reference libraries on fixture strings (non-ASCII, whitespace runs, tabs and
 * newlines, special-token text, the empty string): a byte-level BPE tokenizer.json (tokenizers) and a
 * LLaMA-style SentencePiece model with byte fallback (sentencepiece).
 */
class TokenizerParityTest {
    static JsonNode expected(String fixture) throws IOException {
        return new ObjectMapper().readTree(Files.readString(Fixtures.dir(fixture).resolve("expected.json")));
    }

    static long[] ids(JsonNode a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asLong();
        return out;
    }

    @Test
    void sentencePieceMatchesTheReferenceLibrary() throws IOException {
        JsonNode e = expected("tokenizer-sp");
        try (TextTokenizer tok = TextTokenizer.load(Fixtures.dir("tokenizer-sp"))) {
            assertEquals(e.get("bos_id").asInt(), tok.bosId());
            assertEquals(e.get("eos_id").asInt(), tok.eosId());
            assertEquals(e.get("vocab_size").asInt(), tok.vocabSize());
            for (JsonNode c : e.get("cases")) {
                String text = c.get("text").asText();
                long[] got = tok.encode(text, false);
                assertArrayEquals(ids(c.get("ids")), got, "ids of '" + text + "'");
                assertEquals(c.get("decoded").asText(), tok.decode(got), "decode of '" + text + "'");
                long[] withBos = tok.encode(text, true);
                assertEquals(tok.bosId(), withBos[0]);
            }
        }
    }

    @Test
    void hfTokenizerJsonMatchesTheReferenceLibrary() throws IOException {
        JsonNode e = expected("tokenizer-bpe");
        try (TextTokenizer tok = TextTokenizer.load(Fixtures.dir("tokenizer-bpe"))) {
            assertEquals(1, tok.bosId(), "<s> from tokenizer_config.json");
            assertEquals(2, tok.eosId(), "</s> from tokenizer_config.json");
            assertEquals(0, tok.padId(), "<pad> from tokenizer_config.json");
            for (JsonNode c : e.get("cases")) {
                String text = c.get("text").asText();
                assertArrayEquals(ids(c.get("ids_no_special")), tok.encode(text, false), "ids of '" + text + "'");
                assertArrayEquals(ids(c.get("ids")), tok.encode(text, true), "ids with BOS of '" + text + "'");
                assertEquals(c.get("decoded").asText(), tok.decode(ids(c.get("ids_no_special"))), "decode of '" + text + "'");
            }
        }
    }

    @Test
    void longTextIsNotTruncated() {
        try (TextTokenizer tok = TextTokenizer.load(Fixtures.dir("tokenizer-bpe"))) {
            String text = "the red circle is above the blue square. ".repeat(400);
            long[] ids = tok.encode(text, false);
            assertEquals(text, tok.decode(ids));
        }
    }
}
