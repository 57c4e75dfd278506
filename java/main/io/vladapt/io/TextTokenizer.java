package io.vladapt.io;

import java.nio.file.Files;
import java.nio.file.Path;

/** Text to token ids and back, with the model's special ids. */
public interface TextTokenizer extends AutoCloseable {
    /** Token ids of text, with the BOS id first when {@code addBos} (and the model has one). */
    long[] encode(String text, boolean addBos);

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
