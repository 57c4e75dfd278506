package io.vladapt.io;

import java.nio.file.Files;
import java.nio.file.Path;

/** Text to token ids and back, with the model's special ids. */
public interface TextTokenizer extends AutoCloseable {
    /** Token ids of text, with the BOS id first when {@code addBos} (and the model has one). */
    long[] encode(String text, boolean addBos);

    /**
     * Ids of {@code encode(text, addBos)} with, for each, the characters of text it stands for:
     * [starts[i], ends[i]) in Java string (UTF-16) indices. An added BOS has an empty range where it
     * stands (a special token literally written in the text, as "&lt;s&gt;" matched by a tokenizer.json,
     * covers the characters it was written with); a character split into several byte tokens gives each of them its whole range,
     * so consecutive tokens can share one. Whitespace a tokenizer drops or folds into a neighbour
     * (a SentencePiece dummy prefix, collapsed space runs) is covered by the token that absorbed it.
     */
    TokenSpans encodeWithSpans(String text, boolean addBos);

    /** Token ids and their character ranges, parallel arrays (see {@link #encodeWithSpans}). */
    record TokenSpans(long[] ids, int[] starts, int[] ends) {
        public TokenSpans {
            if (ids.length != starts.length || ids.length != ends.length) throw new IllegalArgumentException("arrays differ in length");
        }

        public int size() {
            return ids.length;
        }
    }

    /** Text of ids, special tokens left out. */
    String decode(long[] ids);

    int bosId();

    int eosId();

    /** -1 when the tokenizer has no padding token. */
    int padId();

    int vocabSize();

    @Override
    void close();

    /** tokenizer.json (HF) if the folder has one, else tokenizer.model (SentencePiece). */
    static TextTokenizer load(Path dir) {
        if (Files.isRegularFile(dir.resolve("tokenizer.json"))) return HfTokenizer.load(dir);
        if (Files.isRegularFile(dir.resolve("tokenizer.model"))) return SentencePieceTokenizer.load(dir.resolve("tokenizer.model"));
        throw new FormatException(dir + ": no tokenizer.json or tokenizer.model");
    }
}
