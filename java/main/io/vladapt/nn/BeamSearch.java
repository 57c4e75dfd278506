package io.vladapt.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Beam search over a batch of prompts with the semantics of transformers' {@code generate(num_beams=K,
 * do_sample=False)} (its vectorised {@code _beam_search}, 5.x), so that the tokens agree with it:
 *
 * <ul>
 *   <li>each prompt runs as K rows (beams); at the first step only beam 0 is live (the others start
 *       at -1e9), so the K beams do not pick the same tokens;</li>
 *   <li>per step, the log-softmax of each beam's logits (float32, after the {@link DecodingRules}
 *       bans) is added to its running score and the best {@code max(2, 1 + #EOS) * K} (beam, token)
 *       candidates of the prompt are kept;</li>
 *   <li>a candidate that ends in EOS or reaches {@code maxNewTokens} is finished; only those among
 *       the first K candidates become hypotheses, scored sum(log p) / length^lengthPenalty (length =
 *       new tokens, EOS included), and a prompt keeps its K best hypotheses;</li>
 *   <li>the K best unfinished candidates run on (a finished one counts -1e9);</li>
 *   <li>a prompt is done once it has K hypotheses and its best running beam, scored at the current
 *       length (early stopping FALSE, the default), cannot beat the worst of them (TRUE: once it has
 *       K hypotheses; NEVER: a positive penalty scores the running beam at the longest length); the
 *       search ends when every prompt is done, or every candidate finished.</li>
 * </ul>
 *
 * <p>The prompt runs once per prompt; its KV cache rows are then copied to the prompt's beams, and
 * after each step the cache's rows are reordered (index_select on the batch dim) to follow the
 * hypotheses the beams continue, so no prefix is ever recomputed. A prompt that is done leaves the
 * batch (its cache rows, mask, positions and adapter-state rows are dropped in the same index_select):
 * transformers keeps decoding its beams, but its hypotheses can no longer change, so the tokens are
 * the same (the parity cases include prompts that leave early).
 */
public final class BeamSearch {
    /** Per prompt, the best hypothesis' new tokens (EOS not included) and its score. */
    public record Result(List<long[]> tokens, float[] scores) {}

    /** A finished hypothesis: its new tokens (the finishing EOS included) and its length-penalised score. */
    private record Hyp(long[] tokens, float score) {}

    private static final float DEAD = -1.0e9f;

    private BeamSearch() {}

    /**
     * @param histories per prompt, the ids the no-repeat n-gram rule looks back on before the new
     *                  tokens (the left-padded prompt for id prompts), or null for none
     */
    public static Result run(LlamaModel model, Generator.Prefill prefill, List<long[]> histories, GenerationConfig g) {
        int b = (int) prefill.embeds().size(0), k = g.numBeams(), n = b * k;   // n: rows (beams) in the batch now
        long promptLen = prefill.embeds().size(1);
        int maxNew = g.maxNewTokens();
        if (maxNew == 0) {
            List<long[]> none = new ArrayList<>();
            for (int i = 0; i < b; i++) none.add(new long[0]);
            return new Result(none, new float[b]);
        }
        if (prefill.hook() != null && prefill.rowHook() == null) {
            throw new IllegalArgumentException("this model's adapter hook cannot follow beams (no row hook): use one beam");
        }
        if (histories != null && histories.size() != b) {
            throw new IllegalArgumentException(histories.size() + " n-gram histories for " + b + " prompts");
        }
        List<Integer> eos = g.stopAtEos() ? model.config().eosTokenIds() : List.of();
        long vocab = model.config().vocabSize();
        int keep = (int) Math.min((long) Math.max(2, 1 + eos.size()) * k, k * vocab);   // candidates per prompt and step
        long[][] gen = new long[n][0];                          // each beam's new tokens
        float[] running = new float[n];                         // each beam's sum of log p
        for (int r = 0; r < n; r++) running[r] = r % k == 0 ? 0f : DEAD;
        List<List<Hyp>> finished = new ArrayList<>();
        for (int i = 0; i < b; i++) finished.add(new ArrayList<>());
        boolean[] open = new boolean[b];                        // transformers' is_early_stop_heuristic_unsatisfied
        Arrays.fill(open, true);
        long[] expand = new long[n];
        for (int r = 0; r < n; r++) expand[r] = r / k;
        try (PointerScope outer = new PointerScope(); NoGradGuard noGrad = new NoGradGuard();
             KvCache cache = new KvCache(model.config(), b, promptLen + maxNew, model.dtype())) {
            Tensor logits, keyValid, nextPos;
            // the beams' hook (per-row adapter state copied to each prompt's beams) lives as long as the search
            LlamaModel.AttentionInputHook hook = prefill.hook() == null ? null : prefill.rowHook().forRows(Tensors.longs(expand));
            try (PointerScope scope = new PointerScope()) {
                // the prompts once, then their cache rows, masks and positions copied to their beams
                Tensor mask = Masks.causal(prefill.keyValid(), promptLen, 0);                   // (B, 1, P, P)
                LlamaModel.Output o = model.forward(new LlamaModel.Input(prefill.embeds(), prefill.positions(), mask, cache, prefill.hook(), false));
                Tensor rows = Tensors.longs(expand);                                            // (B*K)
                Tensor last = o.logits().narrow(1, promptLen - 1, 1).squeeze(1);               // (B, V)
                logits = last.index_select(0, Tensors.onDeviceOf(rows, last)).to(ScalarType.Float);  // (B*K, V)
                cache.reorder(rows);                                                            // (B*K, Hkv, cap, hd) per layer
                keyValid = prefill.keyValid().index_select(0, Tensors.onDeviceOf(rows, prefill.keyValid()));  // (B*K, P)
                Tensor pos = prefill.positions();
                nextPos = pos.narrow(1, promptLen - 1, 1).add(new Scalar(1)).index_select(0, Tensors.onDeviceOf(rows, pos));  // (B*K, 1)
                for (Tensor t : new Tensor[] {logits, keyValid, nextPos}) scope.detach(t.retainReference());
            }
            int[] alive = new int[b];                                   // the prompts still searching, in row order
            for (int i = 0; i < b; i++) alive[i] = i;
            for (int step = 0; ; step++) {
                int len = step + 1;                                                             // new tokens once this step's is added
                int a = alive.length;
                n = a * k;
                float[] vals;
                long[] idx;
                try (PointerScope scope = new PointerScope()) {
                    Tensor logp = torch.log_softmax(logits, -1, new org.bytedeco.pytorch.ScalarTypeOptional());  // (A*K, V)
                    if (DecodingRules.active(g, eos, step)) {
                        List<long[]> h = new ArrayList<>();
                        for (int r = 0; r < n; r++) h.add(concat(histories == null ? null : histories.get(alive[r / k]), gen[r]));
                        DecodingRules.apply(logp, h, step, g, eos);
                    }
                    Tensor total = logp.add(Tensors.onDeviceOf(Tensors.floats(running), logp).view(n, 1)).view(a, k * vocab);  // (A, K*V)
                    T_TensorTensor_T top = torch.topk(total, keep, -1, true, true);             // (A, keep) each
                    vals = Tensors.toFloats(top.get0());
                    idx = Tensors.toLongs(top.get1());
                }
                long[] src = new long[n], tok = new long[n];
                float[] nextRunning = new float[n];
                boolean allHit = true;
                float divisor = (float) Math.pow(len, g.lengthPenalty());
                for (int j = 0; j < a; j++) {
                    int i = alive[j];
                    Integer[] order = new Integer[keep];
                    float[] adjusted = new float[keep];
                    List<Hyp> fresh = new ArrayList<>();
                    boolean full = g.earlyStopping() == GenerationConfig.EarlyStopping.TRUE && finished.get(i).size() == k;
                    for (int c = 0; c < keep; c++) {
                        int at = j * keep + c;
                        long t = idx[at] % vocab;
                        int beam = j * k + (int) (idx[at] / vocab);
                        boolean hit = eos.contains((int) t) || len >= maxNew;
                        allHit &= hit;
                        adjusted[c] = hit ? vals[at] + DEAD : vals[at];
                        order[c] = c;
                        if (hit && c < k && open[i] && !full) fresh.add(new Hyp(append(gen[beam], t), vals[at] / divisor));
                    }
                    addHypotheses(finished.get(i), fresh, k);
                    // the K best unfinished candidates continue (stable: the earlier candidate first on a tie)
                    Arrays.sort(order, Comparator.comparingDouble((Integer c) -> -adjusted[c]));
                    for (int m = 0; m < k; m++) {
                        int c = order[m], at = j * keep + c;
                        src[j * k + m] = j * k + idx[at] / vocab;
                        tok[j * k + m] = idx[at] % vocab;
                        nextRunning[j * k + m] = adjusted[c];
                    }
                }
                // is a prompt done? (transformers' _check_early_stop_heuristic); a done prompt's hypotheses can no
                // longer change, so its beams leave the batch (transformers keeps decoding them, to no effect)
                long hypothetical = g.earlyStopping() == GenerationConfig.EarlyStopping.NEVER && g.lengthPenalty() > 0 ? maxNew : len;
                float div = (float) Math.pow(hypothetical, g.lengthPenalty());
                List<Integer> staying = new ArrayList<>();
                for (int j = 0; j < a; j++) {
                    int i = alive[j];
                    List<Hyp> f = finished.get(i);
                    if (f.size() == k) open[i] &= nextRunning[j * k] / div > f.get(k - 1).score();
                    boolean full = g.earlyStopping() == GenerationConfig.EarlyStopping.TRUE && f.size() == k;
                    if (open[i] && !full) staying.add(j);
                }
                if (staying.isEmpty() || allHit) break;
                int a2 = staying.size();
                long[] rows = new long[a2 * k], nextTok = new long[a2 * k];
                long[][] nextGen = new long[a2 * k][];
                float[] keptRunning = new float[a2 * k];
                int[] nextAlive = new int[a2];
                for (int q = 0; q < a2; q++) {
                    int j = staying.get(q);
                    nextAlive[q] = alive[j];
                    for (int m = 0; m < k; m++) {
                        int from = j * k + m, to = q * k + m;
                        rows[to] = src[from];
                        nextTok[to] = tok[from];
                        nextGen[to] = append(gen[(int) src[from]], tok[from]);
                        keptRunning[to] = nextRunning[from];
                    }
                }
                gen = nextGen;
                running = keptRunning;
                int n2 = a2 * k;
                if (n2 != n && hook != null) {                      // made in the search's scope: it serves the next steps
                    long[] prompts = new long[n2];
                    for (int r = 0; r < n2; r++) prompts[r] = nextAlive[r / k];
                    hook = prefill.rowHook().forRows(Tensors.longs(prompts));
                }
                try (PointerScope scope = new PointerScope()) {
                    boolean moved = n2 != n;
                    for (int r = 0; r < n2 && !moved; r++) moved = rows[r] != r;
                    Tensor sel = Tensors.longs(rows);                                           // (A'*K) rows of the last step's batch
                    if (moved) cache.reorder(sel);                                              // rows follow their hypotheses
                    Tensor kv = n2 == n ? keyValid : keyValid.index_select(0, Tensors.onDeviceOf(sel, keyValid));  // (A'*K, P+len-1)
                    Tensor np = n2 == n ? nextPos : nextPos.index_select(0, Tensors.onDeviceOf(sel, nextPos));       // (A'*K, 1)
                    Tensor embeds = model.embed(Tensors.longs(nextTok).view(n2, 1));            // (A'*K, 1, d)
                    Tensor grown = torch.cat(new TensorVector(kv, Tensors.onDeviceOf(Tensors.full(ScalarType.Bool, 1, n2, 1), kv)), 1);  // (A'*K, P+len)
                    Tensor mask = Masks.causal(grown, 1, cache.length());                       // (A'*K, 1, 1, P+len)
                    LlamaModel.Output o = model.forward(new LlamaModel.Input(embeds, np, mask, cache, hook, false));
                    Tensor next = o.logits().select(1, 0).to(ScalarType.Float);                 // (A'*K, V)
                    Tensor pos = np.add(new Scalar(1));                                          // (A'*K, 1)
                    logits.releaseReference();
                    keyValid.releaseReference();
                    nextPos.releaseReference();
                    logits = next;
                    keyValid = grown;
                    nextPos = pos;
                    for (Tensor t : new Tensor[] {logits, keyValid, nextPos}) scope.detach(t.retainReference());
                }
                alive = nextAlive;
            }
            logits.releaseReference();
            keyValid.releaseReference();
            nextPos.releaseReference();
        }
        List<long[]> tokens = new ArrayList<>();
        float[] scores = new float[b];
        for (int i = 0; i < b; i++) {
            Hyp best = finished.get(i).get(0);
            long[] t = best.tokens();
            if (t.length > 0 && eos.contains((int) t[t.length - 1])) t = Arrays.copyOf(t, t.length - 1);
            tokens.add(t);
            scores[i] = best.score();
        }
        return new Result(tokens, scores);
    }

    /** Keeps the k best of the old and the new hypotheses (old first, then new in candidate order, on a tie). */
    private static void addHypotheses(List<Hyp> kept, List<Hyp> fresh, int k) {
        if (fresh.isEmpty()) return;
        List<Hyp> all = new ArrayList<>(kept);
        all.addAll(fresh);
        all.sort(Comparator.comparingDouble((Hyp h) -> -h.score()));     // List.sort is stable
        kept.clear();
        kept.addAll(all.subList(0, Math.min(k, all.size())));
    }

    private static long[] append(long[] a, long t) {
        long[] r = Arrays.copyOf(a, a.length + 1);
        r[a.length] = t;
        return r;
    }

    private static long[] concat(long[] a, long[] b) {
        if (a == null || a.length == 0) return b;
        long[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
