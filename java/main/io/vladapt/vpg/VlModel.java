package io.vladapt.vpg;

import io.vladapt.io.TextTokenizer;
import io.vladapt.nn.GenerationConfig;
import io.vladapt.nn.Generator;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.LmLoss;
import io.vladapt.nn.Masks;
import io.vladapt.nn.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A VL model in the VPGTrans sense: (cached, frozen) ViT features -> VPG -> linear projector ->
 * soft prompts prepended to a frozen LLM's input: {@code [Q soft prompts][BOS] text}. Gradients flow
 * through the frozen LLM into the soft prompts, never into the LLM's weights.
 */
public final class VlModel {
    private final LlamaModel llm;
    private final TextTokenizer tokenizer;
    private final Vpg vpg;
    private final Projector projector;

    public VlModel(LlamaModel llm, TextTokenizer tokenizer, Vpg vpg, Projector projector) {
        if (projector.inWidth() != vpg.width()) {
            throw new IllegalArgumentException("the VPG emits " + vpg.width() + "-wide queries but the projector takes " + projector.inWidth()
                    + " (VPG checkpoint and projector do not belong together)");
        }
        if (projector.llm().hiddenSize() != llm.config().hiddenSize()) {
            throw new IllegalArgumentException("the projector maps into a " + projector.llm().hiddenSize() + "-wide LLM ("
                    + projector.llm() + "), this LLM is " + llm.config().hiddenSize() + " wide");
        }
        this.llm = llm;
        this.tokenizer = tokenizer;
        this.vpg = vpg;
        this.projector = projector;
        llm.params().asMap().values().forEach(p -> p.set_requires_grad(false));
    }

    public LlamaModel llm() {
        return llm;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    public Vpg vpg() {
        return vpg;
    }

    public Projector projector() {
        return projector;
    }

    /** (B, ...) cached features -> (B, Q, d) soft prompts. */
    public Tensor softPrompts(Tensor features, boolean train) {
        return projector.forward(vpg.forward(features, train));
    }

    /** Mean cross-entropy over the scored tokens of a micro-batch (right-padded; graph attached). */
    public Tensor loss(Tensor features, List<VlExample> batch, boolean train) {
        Tensor soft = softPrompts(features, train);                                 // (B, Q, d)
        int b = batch.size(), q = (int) soft.size(1), t = 0;
        for (VlExample e : batch) t = Math.max(t, e.ids().length);
        long pad = Math.max(0, tokenizer.padId());
        long[] ids = new long[b * t], labels = new long[b * (q + t)];
        Arrays.fill(ids, pad);
        Arrays.fill(labels, -100);
        for (int r = 0; r < b; r++) {
            long[] s = batch.get(r).ids();
            System.arraycopy(s, 0, ids, r * t, s.length);
            // sequence position q + j holds token j; position q + j - 1 predicts it
            for (int j = batch.get(r).lossFrom(); j < s.length; j++) labels[r * (q + t) + q + j - 1] = s[j];
        }
        Tensor text = llm.embed(Tensors.longs(ids).view(b, t));                    // (B, T, d)
        Tensor embeds = torch.cat(new TensorVector(soft.to(text.scalar_type()), text), 1);  // (B, Q+T, d)
        long n = q + t;
        Tensor positions = torch.arange(new org.bytedeco.pytorch.Scalar(n), Tensors.options(ScalarType.Long, text)).unsqueeze(0).expand(b, n);
        Tensor hidden = llm.forward(new LlamaModel.Input(embeds, positions, null, null, null, false, false)).lastHidden();  // (B, Q+T, d)
        return LmLoss.crossEntropy(llm, hidden, Tensors.longs(labels).view(b, n));
    }

    /**
     * Continuations of {@code [soft prompts] prompt} per image (greedy, sampled or beam search, as
     * {@code g} says), prompts of different lengths left-padded in front of the soft prompts.
     */
    public List<long[]> generate(Tensor features, List<long[]> prompts, GenerationConfig g) {
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor soft = softPrompts(features, false);                             // (B, Q, d)
            return new Generator(llm, ids -> tokenizer.decode(ids)).generate(prefill(llm, soft, prompts, Math.max(0, tokenizer.padId())), g, null);
        }
    }

    /**
     * The LLM input of a batch: per row {@code [padding][soft prompts][prompt ids]} as embeddings,
     * padding on the left (its keys masked), RoPE positions from each row's first soft prompt.
     *
     * @param soft (B, Q, d) soft prompts
     */
    public static Generator.Prefill prefill(LlamaModel llm, Tensor soft, List<long[]> prompts, long pad) {
        int b = prompts.size(), q = (int) soft.size(1);
        int longest = prompts.stream().mapToInt(p -> p.length).max().orElse(0);
        TensorVector rows = new TensorVector();
        long[] valid = new long[b * (q + longest)];
        for (int r = 0; r < b; r++) {
            long[] p = prompts.get(r);
            int off = longest - p.length;
            long[] padded = new long[longest];
            Arrays.fill(padded, 0, off, pad);
            System.arraycopy(p, 0, padded, off, p.length);
            Tensor e = llm.embed(Tensors.longs(padded));                           // (L, d)
            rows.push_back(torch.cat(new TensorVector(e.narrow(0, 0, off), soft.get(r).to(e.scalar_type()), e.narrow(0, off, p.length)), 0));
            Arrays.fill(valid, r * (q + longest) + off, (r + 1) * (q + longest), 1);
        }
        Tensor keyValid = Tensors.longs(valid).view(b, q + longest).to(ScalarType.Bool);  // (B, P)
        Tensor embeds = torch.stack(rows, 0);                                      // (B, P, d)
        return new Generator.Prefill(embeds, keyValid, Masks.positions(keyValid), null);
    }

    /** One line each for the VPG and the projector: shapes and parameter counts (for logs). */
    public List<String> describe() {
        List<String> s = new ArrayList<>();
        s.add(vpg.kind() + " VPG: " + vpg.numQueries() + " queries x " + vpg.width() + ", " + vpg.params().count() + " parameters");
        s.add("projector " + vpg.width() + " -> " + llm.config().hiddenSize() + ", " + projector.params().count() + " parameters");
        return s;
    }
}
