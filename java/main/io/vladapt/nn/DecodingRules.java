package io.vladapt.nn;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * The two token bans of {@link GenerationConfig}, as transformers' logits processors apply them
 * (the banned scores become -inf, nothing is renormalised): EOS while fewer than {@code minNewTokens}
 * tokens were generated ({@code MinNewTokensLengthLogitsProcessor}), and every token that would
 * complete an n-gram already in the row's history ({@code NoRepeatNGramLogitsProcessor}; the history
 * is the row's prompt ids, padding included, then its generated tokens, as in transformers'
 * {@code input_ids}; a prompt given as embeddings has no ids, so only its generated tokens count).
 */
final class DecodingRules {
    private DecodingRules() {}

    /** Whether any ban can apply at this step. */
    static boolean active(GenerationConfig g, List<Integer> eos, int generated) {
        return g.noRepeatNgram() > 0 || (generated < g.minNewTokens() && !eos.isEmpty());
    }

    /**
     * Sets the banned entries of {@code scores} to -inf in place.
     *
     * @param scores    (N, V) float32, contiguous
     * @param histories per row, its token history (prompt ids and generated tokens)
     * @param generated tokens generated so far (the same for every row)
     * @param eos       the ids that end a row (empty when EOS does not stop)
     */
    static void apply(Tensor scores, List<long[]> histories, int generated, GenerationConfig g, List<Integer> eos) {
        long v = scores.size(1);
        Scalar minusInf = new Scalar(Double.NEGATIVE_INFINITY);
        if (generated < g.minNewTokens() && !eos.isEmpty()) {
            long[] ids = eos.stream().mapToLong(Integer::longValue).filter(id -> id >= 0 && id < v).toArray();
            if (ids.length > 0) scores.index_fill_(1, Tensors.onDeviceOf(Tensors.longs(ids), scores), minusInf);
        }
        int n = g.noRepeatNgram();
        if (n <= 0) return;
        List<Long> flat = new ArrayList<>();
        for (int r = 0; r < histories.size(); r++) {
            for (long tok : banned(histories.get(r), n)) flat.add(r * v + tok);
        }
        if (flat.isEmpty()) return;
        Tensor idx = Tensors.onDeviceOf(Tensors.longs(flat.stream().mapToLong(Long::longValue).toArray()), scores);
        scores.view(-1).index_fill_(0, idx, minusInf);                                   // (N * V) view
    }

    /** Tokens that would repeat an n-gram of {@code h}: the last of every n-gram whose first n-1 equal h's last n-1. */
    static List<Long> banned(long[] h, int n) {
        List<Long> out = new ArrayList<>();
        int len = h.length;
        if (len + 1 < n || len < n - 1) return out;
        for (int i = 0; i + n <= len; i++) {
            boolean same = true;
            for (int j = 0; j < n - 1 && same; j++) same = h[i + j] == h[len - (n - 1) + j];
            if (same) out.add(h[i + n - 1]);
        }
        return out;
    }
}
