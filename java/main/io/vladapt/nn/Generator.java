package io.vladapt.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Incremental decoding with a KV cache for a batch of prompts of different lengths (left padding,
 * per-row positions). Rows stop on an EOS id or a stop string; finished rows are left alone while
 * the others go on. Prompts are token ids, or ready-made embeddings (MMA puts visual tokens in them).
 */
public final class Generator {
    private final LlamaModel model;
    private final Function<long[], String> detokenize;

    /** Receives each new token of each row as it is chosen (for streaming). */
    @FunctionalInterface
    public interface TokenListener {
        void onToken(int row, long token);
    }

    /**
     * A left-padded prompt batch as the model sees it.
     *
     * @param embeds    (B, P, d) prompt embeddings (padding rows' values do not matter)
     * @param keyValid  (B, P) bool, false on padding
     * @param positions (B, P) int64 RoPE positions
     * @param hook      adapter hook for every forward pass, or null
     */
    public record Prefill(Tensor embeds, Tensor keyValid, Tensor positions, LlamaModel.AttentionInputHook hook, RowHook rowHook) {
        /** A prefill whose hook (if any) cannot follow beams: beam search refuses it. */
        public Prefill(Tensor embeds, Tensor keyValid, Tensor positions, LlamaModel.AttentionInputHook hook) {
            this(embeds, keyValid, positions, hook, null);
        }
    }

    /**
     * The adapter hook for other rows of the batch: beam search runs each prompt as several rows
     * (its beams) and asks for the hook of rows {@code rows} ((B') int64 indices into the prefill's
     * rows, each prompt's index repeated once per beam). Per-row adapter state (LaVIN's routing weights)
     * is index-selected with them.
     */
    @FunctionalInterface
    public interface RowHook {
        LlamaModel.AttentionInputHook forRows(Tensor rows);
    }

    /** @param detokenize ids -> text, for stop strings (may be null when none are used) */
    public Generator(LlamaModel model, Function<long[], String> detokenize) {
        this.model = model;
        this.detokenize = detokenize;
    }

    /** Returns, per prompt, the newly generated ids (EOS and stop strings not included). */
    public List<long[]> generate(List<long[]> prompts, GenerationConfig g, TokenListener listener) {
        if (prompts.isEmpty()) return List.of();
        checkIds(prompts);
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            long pad = Math.max(model.config().padTokenId(), 0);
            LeftPadded p = leftPad(prompts, pad);
            return generate(new Prefill(model.embed(p.ids()), p.valid(), Masks.positions(p.valid()), null), paddedHistories(prompts, pad), g,
                    listener);
        }
    }

    /** The rows as the model sees them (left-padded with {@code pad}): the n-gram history of each prompt. */
    static List<long[]> paddedHistories(List<long[]> prompts, long pad) {
        int longest = prompts.stream().mapToInt(r -> r.length).max().orElse(0);
        List<long[]> h = new ArrayList<>();
        for (long[] p : prompts) {
            long[] row = new long[longest];
            Arrays.fill(row, 0, longest - p.length, pad);
            System.arraycopy(p, 0, row, longest - p.length, p.length);
            h.add(row);
        }
        return h;
    }

    /**
     * Beam search over id prompts (left-padded, as {@link #generate(List, GenerationConfig, TokenListener)}),
     * with each prompt's best score.
     */
    public BeamSearch.Result beamSearch(List<long[]> prompts, GenerationConfig g) {
        if (prompts.isEmpty()) return new BeamSearch.Result(List.of(), new float[0]);
        checkIds(prompts);
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            long pad = Math.max(model.config().padTokenId(), 0);
            LeftPadded p = leftPad(prompts, pad);
            return BeamSearch.run(model, new Prefill(model.embed(p.ids()), p.valid(), Masks.positions(p.valid()), null), paddedHistories(prompts, pad), g);
        }
    }

    /** Token ids padded on the left, and which positions are real. */
    public record LeftPadded(Tensor ids, Tensor valid) {}

    public static LeftPadded leftPad(List<long[]> rows, long pad) {
        int b = rows.size(), longest = rows.stream().mapToInt(r -> r.length).max().orElse(0);
        long[] ids = new long[b * longest], valid = new long[b * longest];
        for (int r = 0; r < b; r++) {
            long[] p = rows.get(r);
            int off = longest - p.length;
            Arrays.fill(ids, r * longest, r * longest + off, pad);
            System.arraycopy(p, 0, ids, r * longest + off, p.length);
            Arrays.fill(valid, r * longest + off, (r + 1) * longest, 1);
        }
        return new LeftPadded(Tensors.longs(ids).view(b, longest), Tensors.longs(valid).view(b, longest).to(ScalarType.Bool));
    }

    /** Decodes from prepared prompt embeddings (their n-gram history starts empty: there are no ids). */
    public List<long[]> generate(Prefill prefill, GenerationConfig g, TokenListener listener) {
        return generate(prefill, null, g, listener);
    }

    /**
     * Decodes from prepared prompt embeddings; with more than one beam by {@link BeamSearch} (the
     * listener then hears nothing: a beam's tokens are not final until the search ends).
     *
     * @param histories per row, the prompt ids the no-repeat n-gram rule looks back on, or null for none
     */
    public List<long[]> generate(Prefill prefill, List<long[]> histories, GenerationConfig g, TokenListener listener) {
        if (g.numBeams() > 1) return BeamSearch.run(model, prefill, histories, g).tokens();
        int b = (int) prefill.embeds().size(0);
        long promptLen = prefill.embeds().size(1);
        List<List<Long>> out = new ArrayList<>();
        for (int i = 0; i < b; i++) out.add(new ArrayList<>());
        boolean[] done = new boolean[b];
        List<Integer> eos = model.config().eosTokenIds();
        long pad = Math.max(model.config().padTokenId(), 0);
        torch.manual_seed(g.seed());
        try (PointerScope outer = new PointerScope(); NoGradGuard noGrad = new NoGradGuard();
             KvCache cache = new KvCache(model.config(), b, promptLen + g.maxNewTokens(), model.dtype())) {
            Tensor keyValid = prefill.keyValid().retainReference();
            Tensor embeds = prefill.embeds(), positions = prefill.positions();
            for (int step = 0; step < g.maxNewTokens(); step++) {
                Tensor next;
                try (PointerScope scope = new PointerScope()) {
                    long t = embeds.size(1), past = cache.length();
                    Tensor mask = Masks.causal(keyValid, t, past);
                    LlamaModel.Output o = model.forward(new LlamaModel.Input(embeds, positions, mask, cache, prefill.hook(), false));
                    Tensor last = o.logits().narrow(1, t - 1, 1).squeeze(1);                 // (B, V)
                    if (DecodingRules.active(g, eos(g), step)) {
                        last = last.to(ScalarType.Float).contiguous();
                        List<long[]> h = new ArrayList<>();
                        for (int r = 0; r < b; r++) h.add(history(histories == null ? null : histories.get(r), out.get(r)));
                        DecodingRules.apply(last, h, step, g, eos(g));
                    }
                    next = Sampler.next(last, g);                                             // (B)
                    scope.detach(next.retainReference());
                }
                long[] chosen = Tensors.toLongs(next);
                next.releaseReference();
                boolean all = true;
                for (int r = 0; r < b; r++) {
                    if (done[r]) continue;
                    long tok = chosen[r];
                    if (g.stopAtEos() && eos.contains((int) tok)) {
                        done[r] = true;
                        continue;
                    }
                    out.get(r).add(tok);
                    if (listener != null) listener.onToken(r, tok);
                    if (hitsStop(out.get(r), g)) done[r] = true;
                    all &= done[r];
                }
                if (all || step == g.maxNewTokens() - 1) break;
                for (int r = 0; r < b; r++) if (done[r]) chosen[r] = pad;
                embeds = model.embed(Tensors.longs(chosen).view(b, 1));
                positions = positions.narrow(1, positions.size(1) - 1, 1).add(new Scalar(1));
                Tensor grown = torch.cat(new TensorVector(keyValid, Tensors.full(ScalarType.Bool, 1, b, 1)), 1);
                keyValid.releaseReference();
                keyValid = grown.retainReference();
            }
            keyValid.releaseReference();
        }
        List<long[]> result = new ArrayList<>();
        for (int r = 0; r < b; r++) result.add(trimStop(out.get(r), g));
        return result;
    }

    /** The ids that end a row under {@code g}. */
    List<Integer> eos(GenerationConfig g) {
        return g.stopAtEos() ? model.config().eosTokenIds() : List.of();
    }

    /** A row's prompt ids (or none) followed by its generated tokens. */
    static long[] history(long[] prompt, List<Long> generated) {
        int p = prompt == null ? 0 : prompt.length;
        long[] h = new long[p + generated.size()];
        if (p > 0) System.arraycopy(prompt, 0, h, 0, p);
        for (int i = 0; i < generated.size(); i++) h[p + i] = generated.get(i);
        return h;
    }

    private void checkIds(List<long[]> prompts) {
        if (prompts.stream().anyMatch(p -> p.length == 0)) throw new IllegalArgumentException("empty prompt");
        int vocab = model.config().vocabSize();
        for (int r = 0; r < prompts.size(); r++) {
            for (long id : prompts.get(r)) {
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("prompt " + r + " has token id " + id + ", outside the model's vocabulary of "
                            + vocab + " (tokenizer and model do not match?)");
                }
            }
        }
    }

    private boolean hitsStop(List<Long> tokens, GenerationConfig g) {
        if (g.stopStrings().isEmpty()) return false;
        String text = decode(tokens);
        return g.stopStrings().stream().anyMatch(text::contains);
    }

    /** Drops the tokens that complete a stop string, so the stop string itself is not returned. */
    private long[] trimStop(List<Long> tokens, GenerationConfig g) {
        int n = tokens.size();
        if (!g.stopStrings().isEmpty()) {
            while (n > 0) {
                String text = decode(tokens.subList(0, n));
                if (g.stopStrings().stream().noneMatch(text::contains)) break;
                n--;
            }
        }
        return tokens.subList(0, n).stream().mapToLong(Long::longValue).toArray();
    }

    private String decode(List<Long> tokens) {
        if (detokenize == null) throw new IllegalStateException("stop strings need a tokenizer to decode");
        return detokenize.apply(tokens.stream().mapToLong(Long::longValue).toArray());
    }
}
