package io.vladapt.io;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Learns a small byte-level BPE from a corpus and writes it as an HF tokenizer.json (+
 * tokenizer_config.json), GPT-2 style: text is cut into words by the ByteLevel pre-tokenizer's
 * regex (a word keeps the space before it), each UTF-8 byte is one printable symbol, and the most
 * frequent adjacent symbol pair is merged until the vocabulary is full. Every byte is in the base
 * alphabet, so no text is ever unknown and decoding gives back the exact input.
 *
 * <p>Vocabulary: &lt;pad&gt; 0, &lt;s&gt; 1, &lt;/s&gt; 2, &lt;unk&gt; 3, the 256 byte symbols in byte
 * order (4..259), then one token per merge in the order learned. Ties between equally frequent pairs
 * go to the pair whose left symbol, then right symbol, sorts first (String order), so the same
 * corpus always gives the same file. The post-processor puts &lt;s&gt; first when special tokens are
 * asked for.
 *
 * <p>Subwords and leading-space tokens make it segment text differently from {@link
 * WordTokenizerBuilder}'s whole words on the same corpus, which is what a cross-tokenizer experiment
 * needs.
 */
public final class BpeTokenizerBuilder {
    /** tokenizers' ByteLevel split (use_regex): contractions, letters, digits, other runs, whitespace. */
    private static final Pattern WORDS = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");
    private static final int BASE = TokenizerFiles.SPECIAL.size() + 256;
    private static final char[] BYTE_CHAR = byteChars();

    private BpeTokenizerBuilder() {}

    /** {@link #write(Path, Collection, int, int)} with pairs seen at least twice. */
    public static int write(Path dir, Collection<String> corpus, int vocabSize) throws IOException {
        return write(dir, corpus, vocabSize, 2);
    }

    /**
     * Learns merges until the vocabulary has vocabSize tokens (at least 260: specials and bytes) or no
     * pair occurs minFrequency times; writes tokenizer.json and tokenizer_config.json into dir.
     *
     * <p>On a corpus with few distinct words merging stops early, once every word is one token (the
     * returned size is then below vocabSize) and segmentation matches whole words; a vocabSize well
     * below that point keeps words split into subwords.
     *
     * @return the vocabulary size reached
     */
    public static int write(Path dir, Collection<String> corpus, int vocabSize, int minFrequency) throws IOException {
        if (vocabSize < BASE) throw new IllegalArgumentException("vocabSize " + vocabSize + " < " + BASE + " (4 special tokens + 256 bytes)");
        if (minFrequency < 1) throw new IllegalArgumentException("minFrequency must be at least 1, got " + minFrequency);
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String s : TokenizerFiles.SPECIAL) vocab.put(s, vocab.size());
        for (char c : BYTE_CHAR) vocab.put(String.valueOf(c), vocab.size());
        List<String[]> merges = learn(words(corpus), vocab, vocabSize, minFrequency);
        TokenizerFiles.write(dir, tokenizerJson(vocab, merges));
        return vocab.size();
    }

    // ---------------------------------------------------------------- training
    /** A distinct pre-tokenized word as its current symbols, and how often it occurs. */
    private static final class Word {
        List<String> symbols;
        final int count;

        Word(List<String> symbols, int count) {
            this.symbols = symbols;
            this.count = count;
        }
    }

    private record Pair(String left, String right) implements Comparable<Pair> {
        @Override
        public int compareTo(Pair o) {
            int c = left.compareTo(o.left);
            return c != 0 ? c : right.compareTo(o.right);
        }
    }

    /** The corpus cut into words and mapped to byte symbols; sorted, so the order of the corpus does not matter. */
    private static List<Word> words(Collection<String> corpus) {
        Map<String, Integer> counts = new TreeMap<>();
        for (String text : corpus) {
            Matcher m = WORDS.matcher(text);
            while (m.find()) counts.merge(m.group(), 1, Integer::sum);
        }
        List<Word> out = new ArrayList<>();
        counts.forEach((w, c) -> {
            List<String> symbols = new ArrayList<>();
            for (byte b : w.getBytes(StandardCharsets.UTF_8)) symbols.add(String.valueOf(BYTE_CHAR[b & 0xff]));
            out.add(new Word(symbols, c));
        });
        return out;
    }

    private static List<String[]> learn(List<Word> words, Map<String, Integer> vocab, int vocabSize, int minFrequency) {
        Map<Pair, Integer> pairs = new HashMap<>();
        for (Word w : words) count(w, pairs, 1);
        List<String[]> merges = new ArrayList<>();
        while (vocab.size() < vocabSize && !pairs.isEmpty()) {
            Pair best = null;
            int bestCount = 0;
            for (Map.Entry<Pair, Integer> e : pairs.entrySet()) {
                int c = e.getValue();
                if (c > bestCount || (c == bestCount && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                    bestCount = c;
                }
            }
            if (bestCount < minFrequency) break;
            merges.add(new String[] {best.left(), best.right()});
            vocab.putIfAbsent(best.left() + best.right(), vocab.size());
            for (Word w : words) {
                if (!contains(w.symbols, best)) continue;
                count(w, pairs, -1);
                w.symbols = merge(w.symbols, best);
                count(w, pairs, 1);
            }
        }
        return merges;
    }

    /** Adds sign x the word's count to each of its adjacent pairs; drops pairs that reach zero. */
    private static void count(Word w, Map<Pair, Integer> pairs, int sign) {
        for (int i = 0; i + 1 < w.symbols.size(); i++) {
            Pair p = new Pair(w.symbols.get(i), w.symbols.get(i + 1));
            int c = pairs.getOrDefault(p, 0) + sign * w.count;
            if (c == 0) pairs.remove(p);
            else pairs.put(p, c);
        }
    }

    private static boolean contains(List<String> symbols, Pair p) {
        for (int i = 0; i + 1 < symbols.size(); i++) {
            if (symbols.get(i).equals(p.left()) && symbols.get(i + 1).equals(p.right())) return true;
        }
        return false;
    }

    /** Merges every occurrence of p, left to right (as the tokenizer applies a merge). */
    private static List<String> merge(List<String> symbols, Pair p) {
        List<String> out = new ArrayList<>(symbols.size());
        for (int i = 0; i < symbols.size(); i++) {
            if (i + 1 < symbols.size() && symbols.get(i).equals(p.left()) && symbols.get(i + 1).equals(p.right())) {
                out.add(p.left() + p.right());
                i++;
            } else {
                out.add(symbols.get(i));
            }
        }
        return out;
    }

    /**
     * The byte-to-symbol table of byte-level BPE: bytes that are printable Latin-1 characters stand
     * for themselves, the others (controls, space, soft hyphen) take code points from 256 up in byte
     * order, so every symbol is visible and none is whitespace.
     */
    private static char[] byteChars() {
        char[] out = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            out[b] = (char) (printable ? b : next++);
        }
        return out;
    }

    // ---------------------------------------------------------------- tokenizer.json
    private static ObjectNode tokenizerJson(Map<String, Integer> vocab, List<String[]> merges) {
        ObjectNode root = TokenizerFiles.root(vocab);
        root.putNull("normalizer");                   // none: decoding must give back the exact input
        byteLevel(root.putObject("pre_tokenizer"));
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        special(single, "<s>");
        sequence(single, "A", 0);
        ArrayNode pair = post.putArray("pair");
        special(pair, "<s>");
        sequence(pair, "A", 0);
        special(pair, "<s>");
        sequence(pair, "B", 1);
        ObjectNode bos = post.putObject("special_tokens").putObject("<s>");
        bos.put("id", "<s>");
        bos.putArray("ids").add(vocab.get("<s>"));
        bos.putArray("tokens").add("<s>");
        byteLevel(root.putObject("decoder"));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", "<unk>");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        ArrayNode m = model.putArray("merges");
        for (String[] p : merges) m.addArray().add(p[0]).add(p[1]);
        return root;
    }

    private static void byteLevel(ObjectNode n) {
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", false);             // true would add a space that decoding keeps
        n.put("trim_offsets", false);                 // a token's span includes its leading space
        n.put("use_regex", true);
    }

    private static void special(ArrayNode template, String token) {
        ObjectNode s = template.addObject().putObject("SpecialToken");
        s.put("id", token);
        s.put("type_id", 0);
    }

    private static void sequence(ArrayNode template, String id, int typeId) {
        ObjectNode s = template.addObject().putObject("Sequence");
        s.put("id", id);
        s.put("type_id", typeId);
    }
}
