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
 * the others go on.
 */
public final class Generator {
    private final LlamaModel model;
    private final Function<long[], String> detokenize;

    /** Receives each new token of each row as it is chosen (for streaming). */
    @FunctionalInterface
    public interface TokenListener {
        void onToken(int row, long token);
    }

    /** @param detokenize ids -> text, for stop strings (may be null when none are used) */
    public Generator(LlamaModel model, Function<long[], String> detokenize) {
        this.model = model;
        this.detokenize = detokenize;
    }

    /** Returns, per prompt, the newly generated ids (EOS and stop strings not included). */
    public List<long[]> generate(List<long[]> prompts, GenerationConfig g, TokenListener listener) {
        int b = prompts.size();
        int longest = prompts.stream().mapToInt(p -> p.length).max().orElse(0);
        if (b == 0) return List.of();
        if (prompts.stream().anyMatch(p -> p.length == 0)) throw new IllegalArgumentException("empty prompt");
        int vocab = model.config().vocabSize();
        for (int r = 0; r < b; r++) {
            for (long id : prompts.get(r)) {
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("prompt " + r + " has token id " + id + ", outside the model's vocabulary of "
                            + vocab + " (tokenizer and model do not match?)");
                }
            }
        }
        List<List<Long>> out = new ArrayList<>();
        for (int i = 0; i < b; i++) out.add(new ArrayList<>());
        boolean[] done = new boolean[b];
        List<Integer> eos = model.config().eosTokenIds();
        int pad = Math.max(model.config().padTokenId(), 0);
        torch.manual_seed(g.seed());
        try (PointerScope outer = new PointerScope(); NoGradGuard noGrad = new NoGradGuard();
             KvCache cache = new KvCache(model.config(), b, longest + g.maxNewTokens(), model.dtype())) {
            long[] ids = new long[b * longest];
            boolean[] valid = new boolean[b * longest];
            for (int r = 0; r < b; r++) {
                long[] p = prompts.get(r);
                int off = longest - p.length;
                Arrays.fill(ids, r * longest, r * longest + off, pad);
                System.arraycopy(p, 0, ids, r * longest + off, p.length);
                for (int j = off; j < longest; j++) valid[r * longest + j] = true;
            }
            Tensor keyValid = boolTensor(valid).view(b, longest).retainReference();        // (B, Tk)
            Tensor input = Tensors.longs(ids).view(b, longest);
            Tensor positions = Masks.positions(keyValid);
            for (int step = 0; step < g.maxNewTokens(); step++) {
                Tensor next;
                try (PointerScope scope = new PointerScope()) {
                    long t = input.size(1), past = cache.length();
                    Tensor mask = Masks.causal(keyValid, t, past);
                    LlamaModel.Output o = model.forward(new LlamaModel.Input(model.embed(input), positions, mask, cache,
                            null, false));
                    next = Sampler.next(o.logits().narrow(1, t - 1, 1).squeeze(1), g);       // (B)
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
                input = Tensors.longs(chosen).view(b, 1);
                Tensor lastPos = positions.narrow(1, positions.size(1) - 1, 1);
                positions = lastPos.add(new Scalar(1));
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

    private static Tensor boolTensor(boolean[] values) {
        long[] l = new long[values.length];
        for (int i = 0; i < l.length; i++) l[i] = values[i] ? 1 : 0;
        return Tensors.longs(l).to(ScalarType.Bool);
    }
}
