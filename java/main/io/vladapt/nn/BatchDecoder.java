package io.vladapt.nn;

import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Continuous batching for serving: sequences join a running batch after a prefill of their own and
 * leave it when they finish, between decoding steps, so concurrent requests share every step.
 *
 * <p>Rows live right-aligned in one left-padded KV cache, as in {@link Generator}'s batches: a
 * joining row shorter than the batch is padded on the left, a longer one pads the others, and each
 * row keeps its own RoPE positions. When rows leave, their cache is dropped with them and columns
 * that became padding for every remaining row are cut, so the cache holds what the live rows need
 * and no more; it grows {@link #GROWTH} positions at a time as rows write. A row's numbers do not depend on its neighbours: padding is masked, and the prefill
 * runs the prompt alone exactly as a one-prompt {@link Generator} call does.
 *
 * <p>Per-row adapter state (LaVIN's routing weights, one tensor per layer) travels with its row;
 * {@link Hooks} turns the batch's stacked state into the attention-input hook. Not thread-safe: one
 * thread drives a decoder.
 */
public final class BatchDecoder implements AutoCloseable {
    /** The cache grows by this many positions at a time (not by every row's whole budget up front). */
    static final int GROWTH = 64;
    /** Builds the adapter hook for a batch from each layer's per-row state stacked along dim 0. */
    @FunctionalInterface
    public interface Hooks {
        LlamaModel.AttentionInputHook hook(Tensor[] state);
    }

    /** A sequence prefilled alone, waiting to join: its cache, next-token logits (1, V) and state. */
    public static final class Joiner implements AutoCloseable {
        private final KvCache cache;
        private final Tensor logits;
        private final long nextPosition;
        private final Tensor[] state;
        private final int budget;

        private Joiner(KvCache cache, Tensor logits, long nextPosition, Tensor[] state, int budget) {
            this.cache = cache;
            this.logits = logits;
            this.nextPosition = nextPosition;
            this.state = state;
            this.budget = budget;
        }

        /** (1, V) logits for the first new token (owned by the joiner, valid until it joins or closes). */
        public Tensor logits() {
            return logits;
        }

        @Override
        public void close() {
            cache.close();
            logits.releaseReference();
            if (state != null) for (Tensor t : state) t.releaseReference();
        }
    }

    private final LlamaModel model;
    private final Hooks hooks;
    private KvCache cache;                 // (B, Hkv, capacity, hd) per layer
    private Tensor keyValid;               // (B, L) bool, false on padding
    private Tensor nextPos;                // (B, 1) int64 RoPE position of each row's next token
    private Tensor[] state;                // per layer (B, ...), or null
    private LlamaModel.AttentionInputHook hook;
    private long[] span = new long[0];     // positions each row holds
    private int[] budget = new int[0];     // tokens each row may still feed

    /** @param hooks builds the adapter hook from stacked row state; null for a plain LLM */
    public BatchDecoder(LlamaModel model, Hooks hooks) {
        this.model = model;
        this.hooks = hooks;
    }

    public int size() {
        return span.length;
    }

    /** Positions in the shared cache (the longest row's). */
    public long length() {
        return cache == null ? 0 : cache.length();
    }

    /**
     * Runs one prompt alone.
     *
     * @param embeds    (1, P, d) prompt embeddings
     * @param positions (1, P) int64 RoPE positions
     * @param rowState  per layer (1, ...) adapter state, or null
     * @param budget    tokens the sequence may feed back after its prompt (its max new tokens)
     */
    public Joiner prefill(Tensor embeds, Tensor positions, Tensor[] rowState, int budget) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            long p = embeds.size(1);
            KvCache c = new KvCache(model.config(), 1, p, model.dtype());
            Tensor valid = Tensors.full(ScalarType.Bool, 1, 1, p);
            LlamaModel.AttentionInputHook h = hooks == null || rowState == null ? null : hooks.hook(rowState);
            LlamaModel.Output o = model.forward(new LlamaModel.Input(embeds, positions, Masks.causal(valid, p, 0), c, h, false));
            Tensor logits = o.logits().narrow(1, p - 1, 1).squeeze(1).to(ScalarType.Float);   // (1, V)
            long next = Tensors.toLongs(positions.narrow(1, p - 1, 1))[0] + 1;
            Tensor[] kept = null;
            if (rowState != null) {
                kept = new Tensor[rowState.length];
                for (int i = 0; i < kept.length; i++) kept[i] = rowState[i].retainReference();
            }
            return new Joiner(c, logits.retainReference(), next, kept, budget);
        }
    }

    /**
     * The new batch: rows {@code keep} of the current one (in that order), then the joiners (which
     * are consumed). Everything else the current batch held is freed.
     */
    public void regroup(int[] keep, List<Joiner> joining) {
        int k = keep.length, b = k + joining.size();
        long[] newSpan = new long[b];
        int[] newBudget = new int[b];
        for (int i = 0; i < k; i++) {
            newSpan[i] = span[keep[i]];
            newBudget[i] = budget[keep[i]];
        }
        for (int j = 0; j < joining.size(); j++) {
            newSpan[k + j] = joining.get(j).cache.length();
            newBudget[k + j] = joining.get(j).budget;
        }
        long newL = 0, most = 0;
        for (int i = 0; i < b; i++) {
            newL = Math.max(newL, newSpan[i]);
            most = Math.max(most, newBudget[i]);
        }
        KvCache nc = null;
        Tensor nValid = null, nPos = null;
        Tensor[] nState = null;
        if (b > 0) {
            try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                LlamaConfig c = model.config();
                long oldL = length(), m = Math.min(oldL, newL), cap = newL + Math.min(most, GROWTH);
                Tensor keepIdx = Tensors.longs(java.util.Arrays.stream(keep).asLongStream().toArray());
                int layers = c.numLayers();
                Tensor[] ks = new Tensor[layers], vs = new Tensor[layers];
                for (int i = 0; i < layers; i++) {
                    ks[i] = gather(i, true, keepIdx, k, m, joining, b, newL, cap);
                    vs[i] = gather(i, false, keepIdx, k, m, joining, b, newL, cap);
                }
                nc = new KvCache(ks, vs, newL);
                nValid = Tensors.zeros(ScalarType.Bool, b, newL);                       // (B', L')
                if (k > 0 && m > 0) nValid.narrow(0, 0, k).narrow(1, newL - m, m).copy_(keyValid.index_select(0, keepIdx).narrow(1, oldL - m, m));
                long[] pos = new long[b];
                if (k > 0) System.arraycopy(Tensors.toLongs(nextPos.index_select(0, keepIdx)), 0, pos, 0, k);
                for (int j = 0; j < joining.size(); j++) {
                    long p = newSpan[k + j];
                    nValid.narrow(0, k + j, 1).narrow(1, newL - p, p).fill_(new Scalar(1));
                    pos[k + j] = joining.get(j).nextPosition;
                }
                nPos = Tensors.longs(pos).view(b, 1);
                nState = stackState(keepIdx, k, joining);
                nValid.retainReference();
                nPos.retainReference();
                if (nState != null) for (Tensor t : nState) t.retainReference();
            }
        }
        release();
        for (Joiner j : joining) j.close();
        cache = nc;
        keyValid = nValid;
        nextPos = nPos;
        state = nState;
        span = newSpan;
        budget = newBudget;
        hook = hooks == null || state == null ? null : hooks.hook(state);
    }

    /** One layer's new key or value buffer (B', Hkv, cap, hd): kept rows' last m positions, then each joiner's, right-aligned. */
    private Tensor gather(int layer, boolean key, Tensor keepIdx, int k, long m, List<Joiner> joining, int b, long newL, long cap) {
        LlamaConfig c = model.config();
        Tensor out = Tensors.zeros(model.dtype(), b, c.numKvHeads(), cap, c.headDim());
        if (k > 0 && m > 0) {
            Tensor old = key ? cache.keys(layer) : cache.values(layer);
            out.narrow(0, 0, k).narrow(2, newL - m, m).copy_(old.index_select(0, keepIdx).narrow(2, length() - m, m));
        }
        for (int j = 0; j < joining.size(); j++) {
            KvCache jc = joining.get(j).cache;
            long p = jc.length();
            out.narrow(0, k + j, 1).narrow(2, newL - p, p).copy_((key ? jc.keys(layer) : jc.values(layer)).narrow(2, 0, p));
        }
        return out;
    }

    private Tensor[] stackState(Tensor keepIdx, int k, List<Joiner> joining) {
        Tensor[] ref = state != null ? state : joining.isEmpty() ? null : joining.get(0).state;
        if (ref == null) return null;
        Tensor[] out = new Tensor[ref.length];
        for (int i = 0; i < ref.length; i++) {
            TensorVector parts = new TensorVector();
            if (k > 0) parts.push_back(state[i].index_select(0, keepIdx));
            for (Joiner j : joining) parts.push_back(j.state[i]);
            out[i] = torch.cat(parts, 0);
        }
        return out;
    }

    /**
     * One decoding step: feeds each row its chosen token and returns the next logits (B, V) float32,
     * in the caller's scope.
     */
    public Tensor step(long[] tokens) {
        int b = size();
        if (tokens.length != b) throw new IllegalArgumentException(tokens.length + " tokens for a batch of " + b);
        for (int r = 0; r < b; r++) {
            if (budget[r] <= 0) throw new IllegalStateException("row " + r + " has used its token budget");
        }
        if (cache.length() == cache.capacity()) regroup(java.util.stream.IntStream.range(0, b).toArray(), List.of());   // grow
        Tensor logits;
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor embeds = model.embed(Tensors.longs(tokens).view(b, 1));                      // (B, 1, d)
            Tensor grown = torch.cat(new TensorVector(keyValid, Tensors.full(ScalarType.Bool, 1, b, 1)), 1);   // (B, L+1)
            Tensor mask = Masks.causal(grown, 1, cache.length());
            LlamaModel.Output o = model.forward(new LlamaModel.Input(embeds, nextPos, mask, cache, hook, false));
            logits = o.logits().squeeze(1).to(ScalarType.Float).retainReference();               // (B, V)
            Tensor pos = nextPos.add(new Scalar(1));
            keyValid.releaseReference();
            nextPos.releaseReference();
            keyValid = grown.retainReference();
            nextPos = pos.retainReference();
        }
        for (int r = 0; r < b; r++) {
            span[r]++;
            budget[r]--;
        }
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            outer.attach(logits);
            logits.releaseReference();
        }
        return logits;
    }

    private void release() {
        if (cache != null) cache.close();
        if (keyValid != null) keyValid.releaseReference();
        if (nextPos != null) nextPos.releaseReference();
        if (state != null) for (Tensor t : state) t.releaseReference();
        cache = null;
        keyValid = nextPos = null;
        state = null;
    }

    @Override
    public void close() {
        release();
        span = new long[0];
        budget = new int[0];
        hook = null;
    }
}
