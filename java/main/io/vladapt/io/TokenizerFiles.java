package io.vladapt.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The parts of a tokenizer.json every builder here writes alike: the special tokens &lt;pad&gt; 0,
 * &lt;s&gt; 1, &lt;/s&gt; 2, &lt;unk&gt; 3 as added_tokens, and a tokenizer_config.json naming them
 * (which is where {@link HfTokenizer} finds BOS, EOS and PAD).
 */
final class TokenizerFiles {
    static final List<String> SPECIAL = List.of("<pad>", "<s>", "</s>", "<unk>");
    static final ObjectMapper JSON = new ObjectMapper();

    private TokenizerFiles() {}

    /** A tokenizer.json root with version, no truncation or padding, and the special tokens added. */
    static ObjectNode root(Map<String, Integer> vocab) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String s : SPECIAL) {
            ObjectNode a = added.addObject();
            a.put("id", vocab.get(s));
            a.put("content", s);
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
        }
        return root;
    }

    /** Writes tokenizer.json and tokenizer_config.json into dir. */
    static void write(Path dir, ObjectNode tokenizer) throws IOException {
        AtomicFiles.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(tokenizer));
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("bos_token", "<s>");
        cfg.put("eos_token", "</s>");
        cfg.put("pad_token", "<pad>");
        cfg.put("unk_token", "<unk>");
        cfg.put("tokenizer_class", "PreTrainedTokenizerFast");
        AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(cfg));
    }
}
