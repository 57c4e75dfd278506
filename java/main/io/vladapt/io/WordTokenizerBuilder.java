package io.vladapt.io;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds a word-level HF tokenizer.json (+ tokenizer_config.json) from a corpus: the vocabulary is
 * every word and punctuation run (tokenizers' "Whitespace" pre-tokenizer: \w+ or [^\w\s]+) seen at
 * least {@code minCount} times, plus &lt;pad&gt; 0, &lt;s&gt; 1, &lt;/s&gt; 2, &lt;unk&gt; 3. Small
 * synthetic corpora have small vocabularies, and short sequences keep a tiny LM fast; the file is an
 * ordinary tokenizer.json, read back through the same Rust library as any HF tokenizer.
 */
public final class WordTokenizerBuilder {
    private static final Pattern WORD = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);

    private WordTokenizerBuilder() {}

    /** Writes tokenizer.json and tokenizer_config.json into dir; returns the vocabulary size. */
    public static int write(Path dir, Collection<String> corpus, int minCount) throws IOException {
        Map<String, Integer> counts = new TreeMap<>();
        for (String text : corpus) {
            Matcher m = WORD.matcher(text);
            while (m.find()) counts.merge(m.group(), 1, Integer::sum);
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String s : TokenizerFiles.SPECIAL) vocab.put(s, vocab.size());
        counts.forEach((w, c) -> {
            if (c >= minCount && !vocab.containsKey(w)) vocab.put(w, vocab.size());
        });
        ObjectNode root = TokenizerFiles.root(vocab);
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "Whitespace");
        root.putNull("post_processor");
        root.putNull("decoder");
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        model.put("unk_token", "<unk>");
        TokenizerFiles.write(dir, root);
        return vocab.size();
    }
}
