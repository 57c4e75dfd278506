package io.vladapt.vpg.transfer;

import io.vladapt.io.TextTokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * The training pairs of the word-embedding converter: every token occurrence in a caption corpus is
 * one (source id, target id) pair, so frequent caption words dominate the fit and words absent from
 * the captions are never fitted (as in VPGTrans). Pairs are grouped per caption, because the official
 * SGD batches are "4096 captions flattened into their tokens".
 *
 * @param source  per caption, the source-tokenizer ids of its paired tokens
 * @param target  per caption, the target-tokenizer ids (same length as source's row)
 * @param pairing how the two sides were matched
 * @param dropped captions that gave no pairs (the positional heuristic drops unequal lengths)
 */
public record TokenPairs(List<long[]> source, List<long[]> target, String pairing, int dropped) {
    public long count() {
        return source.stream().mapToLong(r -> r.length).sum();
    }

    /** Both LLMs share one tokenizer: a token is paired with itself (OPT -> OPT, LLaMA -> Vicuna). */
    public static TokenPairs sameTokenizer(List<String> captions, TextTokenizer tok) {
        List<long[]> ids = new ArrayList<>();
        int dropped = 0;
        for (String c : captions) {
            long[] t = tok.encode(c, true);
            if (t.length == 0) dropped++;
            else ids.add(t);
        }
        return new TokenPairs(ids, ids, "same-ids", dropped);
    }

    /**
     * The official cross-tokenizer heuristic: keep a caption only when both tokenizers give it the same
     * number of tokens (BOS kept on both sides, as for OPT <-> LLaMA), and pair tokens by position.
     */
    public static TokenPairs positional(List<String> captions, TextTokenizer src, TextTokenizer tgt) {
        List<long[]> s = new ArrayList<>(), t = new ArrayList<>();
        int dropped = 0;
        for (String c : captions) {
            long[] a = src.encode(c, true), b = tgt.encode(c, true);
            if (a.length != b.length || a.length == 0) {
                dropped++;
                continue;
            }
            s.add(a);
            t.add(b);
        }
        return new TokenPairs(s, t, "positional", dropped);
    }

    /**
     * This project's cross-tokenizer alignment: tokenize each caption once per side with character
     * spans, and pair every source token with every target token whose span shares at least one
     * non-space character with it (BOS with BOS). Unlike the positional heuristic it keeps every
     * caption, and a word split differently on the two sides still pairs with its own pieces instead
     * of whatever sits at the same index.
     */
    public static TokenPairs charAligned(List<String> captions, TextTokenizer src, TextTokenizer tgt) {
        List<long[]> s = new ArrayList<>(), t = new ArrayList<>();
        int dropped = 0;
        for (String c : captions) {
            TextTokenizer.TokenSpans a = src.encodeWithSpans(c, true), b = tgt.encodeWithSpans(c, true);
            List<Long> ps = new ArrayList<>(), pt = new ArrayList<>();
            if (a.ids().length > 0 && b.ids().length > 0 && a.ids()[0] == src.bosId() && b.ids()[0] == tgt.bosId()) {
                ps.add(a.ids()[0]);
                pt.add(b.ids()[0]);
            }
            for (int i = 0; i < a.ids().length; i++) {
                for (int j = 0; j < b.ids().length; j++) {
                    if (sharesText(c, a.starts()[i], a.ends()[i], b.starts()[j], b.ends()[j])) {
                        ps.add(a.ids()[i]);
                        pt.add(b.ids()[j]);
                    }
                }
            }
            if (ps.isEmpty()) {
                dropped++;
                continue;
            }
            s.add(ps.stream().mapToLong(Long::longValue).toArray());
            t.add(pt.stream().mapToLong(Long::longValue).toArray());
        }
        return new TokenPairs(s, t, "char-aligned", dropped);
    }

    private static boolean sharesText(String text, int a0, int a1, int b0, int b1) {
        for (int k = Math.max(a0, b0); k < Math.min(a1, b1); k++) if (!Character.isWhitespace(text.charAt(k))) return true;
        return false;
    }
}
