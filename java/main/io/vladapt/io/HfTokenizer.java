package io.vladapt.io;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * An HF tokenizer.json through the Rust tokenizers library (DJL's binding, natives from its jar,
 * offline). Special tokens come from tokenizer_config.json (bos_token, eos_token, pad_token) or, when
 * it is absent, from the model's config.json ids; BOS is added explicitly, not by the post-processor,
 * so every tokenizer behaves the same way.
 */
public final class HfTokenizer implements TextTokenizer {
    private final HuggingFaceTokenizer tok;
    private final int bos, eos, pad, vocab;

    private HfTokenizer(HuggingFaceTokenizer tok, int bos, int eos, int pad, int vocab) {
        this.tok = tok;
        this.bos = bos;
        this.eos = eos;
        this.pad = pad;
        this.vocab = vocab;
    }

    public static HfTokenizer load(Path dir) {
        Path json = dir.resolve("tokenizer.json");
        HuggingFaceTokenizer tok;
        try {
            tok = HuggingFaceTokenizer.newInstance(json, Map.of("addSpecialTokens", "false", "truncation", "false",
                    "padding", "false", "modelMaxLength", String.valueOf(Integer.MAX_VALUE)));
        } catch (IOException | RuntimeException e) {
            throw new FormatException(json + ": cannot load the tokenizer (" + e.getMessage() + ")", e);
        }
        JsonNode cfg = Files.isRegularFile(dir.resolve("tokenizer_config.json"))
                ? ModelConfigs.readJson(dir.resolve("tokenizer_config.json")) : null;
        JsonNode model = Files.isRegularFile(dir.resolve("config.json")) ? ModelConfigs.readJson(dir.resolve("config.json")) : null;
        int vocab = idCount(ModelConfigs.readJson(json));
        return new HfTokenizer(tok, special(tok, cfg, model, "bos_token", json), special(tok, cfg, model, "eos_token", json),
                special(tok, cfg, model, "pad_token", json), vocab);
    }

    /**
     * Highest id + 1 over the model's vocabulary and the added tokens. Not the sum of their sizes:
     * special tokens usually sit in both (LLaMA's &lt;s&gt;, the builders' &lt;pad&gt;), and the
     * embedding needs a row per id, not per entry.
     */
    private static int idCount(JsonNode tokenizer) {
        JsonNode vocab = tokenizer.path("model").path("vocab");
        int max = vocab.size() - 1;                   // Unigram: a list of [piece, score], ids by position
        if (vocab.isObject()) for (JsonNode id : vocab) max = Math.max(max, id.asInt());
        for (JsonNode t : tokenizer.path("added_tokens")) max = Math.max(max, t.path("id").asInt());
        return max + 1;
    }

    /** The id of a special token named in tokenizer_config.json, else the model config's *_id, else -1. */
    private static int special(HuggingFaceTokenizer tok, JsonNode cfg, JsonNode model, String key, Path json) {
        JsonNode t = cfg == null ? null : cfg.get(key);
        if (t != null && t.isObject()) t = t.get("content");
        if (t != null && t.isTextual()) {
            long[] ids = tok.encode(t.asText(), false, false).getIds();
            if (ids.length != 1) throw new FormatException(json + ": special token " + key + " '" + t.asText() + "' is not one token");
            return (int) ids[0];
        }
        String idKey = key.replace("_token", "_token_id");
        if (model != null && model.hasNonNull(idKey)) {
            JsonNode id = model.get(idKey);
            return id.isArray() ? id.get(0).asInt() : id.asInt();
        }
        return -1;
    }

    @Override
    public long[] encode(String text, boolean addBos) {
        long[] ids = tok.encode(text, false, false).getIds();
        if (!addBos || bos < 0) return ids;
        long[] out = new long[ids.length + 1];
        out[0] = bos;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    /**
     * DJL's Encoding carries the Rust library's char offsets: Unicode code point indices into the
     * original text (not bytes, not UTF-16), null for tokens added by the post-processor. They are
     * turned into Java string indices here, which differ from code points after any character
     * outside the BMP (emoji).
     */
    @Override
    public TokenSpans encodeWithSpans(String text, boolean addBos) {
        Encoding e = tok.encode(text, false, false);
        long[] raw = e.getIds();
        CharSpan[] spans = e.getCharTokenSpans();
        int[] utf16 = codePointStarts(text);
        int first = addBos && bos >= 0 ? 1 : 0, n = raw.length + first;
        long[] ids = new long[n];
        int[] starts = new int[n], ends = new int[n];
        if (first == 1) ids[0] = bos;
        int at = 0;                                   // where a token without a span stands: after the previous one
        for (int i = 0; i < raw.length; i++) {
            ids[first + i] = raw[i];
            CharSpan s = spans[i];
            if (s != null) {
                starts[first + i] = utf16[s.getStart()];
                ends[first + i] = at = utf16[s.getEnd()];
            } else {
                starts[first + i] = ends[first + i] = at;
            }
        }
        return new TokenSpans(ids, starts, ends);
    }

    /** UTF-16 index of every code point of text, and text.length() at the end. */
    private static int[] codePointStarts(String text) {
        int[] out = new int[text.codePointCount(0, text.length()) + 1];
        int k = 0;
        for (int i = 0; i < text.length(); i += Character.charCount(text.codePointAt(i))) out[k++] = i;
        out[k] = text.length();
        return out;
    }

    @Override
    public String decode(long[] ids) {
        return tok.decode(ids, true);
    }

    @Override
    public int bosId() {
        return bos;
    }

    @Override
    public int eosId() {
        return eos;
    }

    @Override
    public int padId() {
        return pad;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public void close() {
        tok.close();
    }
}
