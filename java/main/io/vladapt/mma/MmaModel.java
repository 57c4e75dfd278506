package io.vladapt.mma;

import io.vladapt.ext.OpCheck;
import io.vladapt.io.TextTokenizer;
import io.vladapt.nn.ActivationCheckpoint;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.LmLoss;
import io.vladapt.nn.Masks;
import io.vladapt.nn.Tensors;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * LaVIN: a frozen LLaMA-family LLM and a frozen CLIP ViT joined by Mixture-of-Modality Adaptation.
 * <ul>
 *   <li>an MM-Adapter on the normalised input of every LLM and ViT block, before attention;</li>
 *   <li>a learned modality token (0 text-only, 1 image) at position 0, which no other position may
 *       attend to: each LLM router reads its normalised state;</li>
 *   <li>the [CLS] states of evenly spaced ViT blocks, through the neck, become visual tokens placed
 *       after "Image: "; text-only samples carry "Image: N/A" instead.</li>
 * </ul>
 * The sequence is {@code [t_m] [BOS] Image: v1..vk prompt answer [EOS]} with RoPE position 0 for t_m.
 * Only {@link MmaAdapters} train; gradients still flow through the frozen ViT.
 */
public final class MmaModel implements AutoCloseable {
    /** What precedes the visual tokens: LaVIN's "Image: ", whose trailing space SentencePiece encodes as a token. */
    public static final String IMAGE_PREFIX = "Image: ";
    private final LlamaModel llm;
    private final ClipVisionModel vit;
    private final MmaAdapters adapters;
    private final TextTokenizer tokenizer;
    private final MmaConfig config;
    private final long[] imagePrefix, textOnlyMarker;
    private boolean naiveOps;
    private java.util.function.BiConsumer<String, Tensor> trace;

    public MmaModel(LlamaModel llm, ClipVisionModel vit, MmaAdapters adapters, TextTokenizer tokenizer) {
        this.llm = llm;
        this.vit = vit;
        this.adapters = adapters;
        this.tokenizer = tokenizer;
        this.config = adapters.config();
        if (llm.config().numLayers() != config.llmLayers() || llm.config().hiddenSize() != config.llmDim()) {
            throw new IllegalArgumentException("MMA config is for a " + config.llmLayers() + " x " + config.llmDim()
                    + " LLM, the model is " + llm.config().numLayers() + " x " + llm.config().hiddenSize());
        }
        if (vit.config().numLayers() != config.vitLayers() || vit.config().hiddenSize() != config.vitDim()) {
            throw new IllegalArgumentException("MMA config is for a " + config.vitLayers() + " x " + config.vitDim()
                    + " ViT, the model is " + vit.config().numLayers() + " x " + vit.config().hiddenSize());
        }
        String at = Tensors.deviceName(llm.lmHead());
        String vitAt = Tensors.deviceName(vit.params().asMap().values().iterator().next());
        String adaptersAt = Tensors.deviceName(adapters.params().asMap().values().iterator().next());
        if (!at.equals(vitAt) || !at.equals(adaptersAt)) {
            throw new IllegalArgumentException("MMA: the LLM is on " + at + ", the ViT on " + vitAt + " and the adapters on " + adaptersAt
                    + ": load all three on one device (--device)");
        }
        this.imagePrefix = tokenizer.encode(IMAGE_PREFIX, false);
        this.textOnlyMarker = tokenizer.encode("Image: N/A", false);
    }

    /**
     * Benchmarks only: run the adapters as LaVIN's op-by-op composition from Java instead of the C++
     * op (same numbers, see MmAdapterParityTest), to measure what the op buys inside a training step.
     */
    public void useNaiveOps(boolean naive) {
        this.naiveOps = naive;
    }

    /**
     * Hands every routing weight, the [CLS] states, the visual tokens, the LLM's hidden states and the
     * logits of later forward passes to {@code sink} under the names {@link MmaTrace} documents (null: off).
     */
    public void trace(java.util.function.BiConsumer<String, Tensor> sink) {
        this.trace = sink;
    }

    private Tensor adapter(Tensor x, Tensor z, MmAdapterWeights w, AdapterSettings s, boolean training) {
        return naiveOps ? NaiveAdapters.mmAdapter(x, z, w, s, training) : MmAdapterOp.forward(x, z, w, s, training);
    }

    public LlamaModel llm() {
        return llm;
    }

    public ClipVisionModel vit() {
        return vit;
    }

    public MmaAdapters adapters() {
        return adapters;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    public MmaConfig config() {
        return config;
    }

    /** Where the visual tokens sit in an image sample's token list (after BOS and "Image: "). */
    public int visualSlot() {
        return 1 + imagePrefix.length;
    }

    /**
     * Token ids of one sample without the modality token: BOS, the image marker (with k placeholder
     * ids where visual tokens go) or "Image: N/A", the prompt, then the answer and EOS if given.
     * Prompt and answer are tokenized separately, so the supervised span starts exactly at the answer.
     *
     * @return the ids and the index of the first answer id (ids.length when there is no answer)
     */
    public Encoded encode(String prompt, String answer, boolean hasImage) {
        return encode(prompt, answer, hasImage, null);
    }

    /**
     * As {@link #encode(String, String, boolean)}; for a text-only sample, a non-null {@code imageText}
     * replaces "N/A" after "Image:" (a description read in place of the image, e.g. a caption).
     */
    public Encoded encode(String prompt, String answer, boolean hasImage, String imageText) {
        long[] p = tokenizer.encode(prompt, false);
        long[] a = answer == null ? new long[0] : tokenizer.encode(answer, false);
        long[] marker = hasImage ? imagePrefix : imageText == null ? textOnlyMarker : tokenizer.encode("Image: " + imageText, false);
        int k = hasImage ? config.visualTokens() : 0;
        int n = 1 + marker.length + k + p.length + a.length + (answer == null ? 0 : 1);
        long[] ids = new long[n];
        int i = 0;
        ids[i++] = tokenizer.bosId();
        for (long t : marker) ids[i++] = t;
        for (int j = 0; j < k; j++) ids[i++] = Math.max(0, tokenizer.padId());     // replaced by visual tokens
        for (long t : p) ids[i++] = t;
        int answerStart = i;
        for (long t : a) ids[i++] = t;
        if (answer != null) ids[i] = tokenizer.eosId();
        return new Encoded(ids, answerStart, hasImage);
    }

    /** A tokenized sample: ids without the modality token, and where its answer starts. */
    public record Encoded(long[] ids, int answerStart, boolean hasImage) {}

    /** (Bi, k, d) visual tokens for preprocessed images (Bi, 3, S, S), float32. */
    public Tensor visualTokens(Tensor pixels, boolean training) {
        ClipVisionModel.Output o = vit.forward(pixels, (layer, normed) -> vitAdapter(layer, normed, training), true);
        TensorVector cls = new TensorVector();
        for (int b : config.vitBlocks()) cls.push_back(o.hiddenStates().get(b).select(1, 0));   // (Bi, d_v)
        Tensor states = torch.stack(cls, 1);                                           // (Bi, k, d_v)
        Tensor tokens = neck(states);                                                  // (Bi, k, d)
        if (trace != null) {
            trace.accept("vit_cls", states.detach());
            trace.accept("visual_tokens", tokens.detach());
        }
        return tokens;
    }

    /** The trainable neck runs in float32 on the frozen ViT's [CLS] states (B, k, d_v), whatever their dtype. */
    private Tensor neck(Tensor cls) {
        return adapters.neck(cls.to(ScalarType.Float));
    }

    /**
     * (Bi, k, d) visual tokens of a batch's image rows, or null without images. With vitRoutingCompat
     * the batch holds every row's pixels (text-only rows as zero images, see {@link MmaBatch#of}), all of
     * which run through the ViT together as in LaVIN's code; the image rows' tokens are kept.
     */
    public Tensor visualTokens(MmaBatch batch, boolean training) {
        if (batch.pixels() == null) return null;
        Tensor visual = visualTokens(batch.pixels(), training);
        return config.vitRoutingCompat() ? visual.index_select(0, imageRows(batch, visual)) : visual;
    }

    /**
     * ViT MM-Adapter: every position is routed by a state at that position: its own sample's
     * (default), or the batch's first sample's (LaVIN's code, vitRoutingCompat).
     */
    Tensor vitAdapter(int layer, Tensor normed, boolean training) {
        long b = normed.size(0), n = normed.size(1), d = normed.size(2);
        Tensor x = normed.reshape(b * n, 1, d);                                        // each position its own row
        Tensor z = config.vitRoutingCompat() ? normed.narrow(0, 0, 1).expand(b, n, d).reshape(b * n, d)
                : normed.reshape(b * n, d);
        if (trace != null) trace.accept("vit_routing." + layer, route(z, adapters.vit(layer), config.vitAdapter()).view(b, n, 2));
        return adapter(x, z, adapters.vit(layer), config.vitAdapter(), training).view(b, n, d);
    }

    /** LLM MM-Adapter routed by the modality token's normalised state (position 0). */
    Tensor llmAdapter(int layer, Tensor normed, boolean training) {
        if (trace != null) trace.accept("llm_routing." + layer, route(normed.select(1, 0), adapters.llm(layer), config.llmAdapter()));
        return adapter(normed, normed.select(1, 0), adapters.llm(layer), config.llmAdapter(), training);
    }

    private static Tensor route(Tensor z, MmAdapterWeights w, AdapterSettings s) {
        return MmAdapterOp.route(z, w.rW(), w.rB(), s.temperature()).detach();
    }

    /**
     * Input embeddings (B, L, d): the modality token, then the token embeddings with the visual tokens
     * written into image samples' placeholder slots.
     *
     * @param tokens   (B, L-1) int64, from {@link #encode}, padded
     * @param hasImage (B) int64 0/1
     * @param visual   (Bi, k, d) for the image rows, in order, or null when there are none
     */
    public Tensor inputEmbeds(Tensor tokens, Tensor hasImage, Tensor visual) {
        Tensor embeds = llm.embed(tokens);                                             // (B, L-1, d) LLM dtype
        ScalarType dt = OpCheck.dtype(embeds);
        Tensor has = Tensors.onDeviceOf(hasImage, embeds);
        if (visual != null) {
            long slot = visualSlot(), k = config.visualTokens(), d = config.llmDim(), b = tokens.size(0);
            Tensor rows = Tensors.onDeviceOf(hasImage.nonzero().view(-1), embeds);    // image rows (found on the flags' device)
            Tensor full = Tensors.zerosLike(dt, embeds, b, k, d).index_copy(0, rows, visual.to(dt));   // (B, k, d)
            Tensor isImage = has.to(ScalarType.Bool).view(b, 1, 1);
            Tensor slots = torch.where(isImage, full, embeds.narrow(1, slot, k));
            embeds = torch.cat(new TensorVector(embeds.narrow(1, 0, slot), slots,
                    embeds.narrow(1, slot + k, embeds.size(1) - slot - k)), 1);
        }
        return torch.cat(new TensorVector(adapters.modality(Tensors.onDeviceOf(hasImage, adapters.params().get(
                "adapter_modality_embedding.weight"))).to(dt).unsqueeze(1), embeds), 1);   // (B, L, d)
    }

    /** Logits (B, L, V) for a batch, the full sequence at once (evaluation of every position). */
    public Tensor forward(MmaBatch batch, boolean training) {
        Tensor logits = llm.logits(hidden(batch, training));
        if (trace != null) trace.accept("logits", logits.detach());
        return logits;
    }

    /** Final-norm states (B, L, d) for a batch, in the LLM's dtype. */
    public Tensor hidden(MmaBatch batch, boolean training) {
        Tensor embeds = inputEmbeds(batch.tokens(), batch.hasImage(), visualTokens(batch, training));
        LlamaModel.Pass pass = pass(batch, embeds, training);
        Tensor h = embeds.to(llm.dtype());
        for (int i = 0; i < config.llmLayers(); i++) {
            if (trace != null) trace.accept("hidden_states." + i, h.detach());          // transformers' numbering
            h = llm.block(i, h, pass);
        }
        h = llm.finalNorm(h);
        if (trace != null) trace.accept("hidden_states." + config.llmLayers(), h.detach());
        return h;
    }

    private LlamaModel.Pass pass(MmaBatch batch, Tensor embeds, boolean training) {
        long b = embeds.size(0), l = embeds.size(1);
        Tensor positions = torch.arange(new Scalar(l), Tensors.options(ScalarType.Long, embeds)).view(1, l).expand(b, l);
        Tensor mask = Masks.modalityCausal(Tensors.onDeviceOf(batch.keyValid(), embeds));
        return llm.pass(positions, mask, null, (layer, normed) -> llmAdapter(layer, normed, training));
    }

    private static Tensor imageRows(MmaBatch batch, Tensor like) {
        return Tensors.onDeviceOf(batch.hasImage().nonzero().view(-1), like);
    }

    /** Mean cross-entropy over the supervised positions (answer tokens and EOS); the LM head runs on those only. */
    public Tensor loss(MmaBatch batch, boolean training) {
        return LmLoss.crossEntropy(llm, hidden(batch, training), batch.labels());
    }

    /**
     * The loss and its gradients (of loss / scale) with activation checkpointing of every frozen
     * block: the ViT and LLM blocks run without a graph, keeping only their inputs, and are
     * recomputed one at a time in backward (see {@link ActivationCheckpoint}). Same numbers as
     * {@code loss(batch, true).div(scale).backward()}, at a fraction of the memory.
     *
     * @return the loss value
     */
    public double lossAndBackwardCheckpointed(MmaBatch batch, double scale, boolean training) {
        Map<Integer, Integer> clsAt = new HashMap<>();                                // ViT block -> visual token slot
        int[] blocks = config.vitBlocks();
        for (int j = 0; j < blocks.length; j++) clsAt.put(blocks[j] - 1, j);          // hidden state b = block b-1's output
        Tensor[] cls = new Tensor[blocks.length];
        ActivationCheckpoint vitChain = null, llmChain = null;
        try {
            Tensor visual = null, clsLeaf = null;
            if (batch.pixels() != null) {
                Tensor h0;
                try (NoGradGuard ng = new NoGradGuard()) {
                    h0 = vit.embeddings(batch.pixels());
                }
                int top = Arrays.stream(blocks).max().orElse(0);                      // blocks above it feed nothing
                vitChain = ActivationCheckpoint.forward(h0, top, (i, h) -> vit.block(i, h, (layer, n) -> vitAdapter(layer, n, training)),
                        (i, out) -> {
                            Integer j = clsAt.get(i);
                            if (j != null) cls[j] = out.select(1, 0).contiguous().retainReference();
                        });
                TensorVector v = new TensorVector();
                for (Tensor c : cls) v.push_back(c);
                clsLeaf = torch.stack(v, 1).set_requires_grad(true);                 // (Bi, k, d_v)
                visual = neck(clsLeaf);
                if (config.vitRoutingCompat()) visual = visual.index_select(0, imageRows(batch, visual));
            }
            Tensor embeds = inputEmbeds(batch.tokens(), batch.hasImage(), visual);   // graph: modality token, neck
            LlamaModel.Pass pass = pass(batch, embeds, training);
            llmChain = ActivationCheckpoint.forward(embeds.to(llm.dtype()), config.llmLayers(), (i, h) -> llm.block(i, h, pass), null);
            Tensor top = llmChain.output().detach().set_requires_grad(true);
            Tensor loss = LmLoss.crossEntropy(llm, llm.finalNorm(top), batch.labels());
            double value = loss.item_double();
            if (!Double.isFinite(value)) return value;
            loss.div(new Scalar(scale)).backward();
            Tensor gEmbeds = llmChain.backward(top.grad(), null);
            embeds.backward(gEmbeds.to(OpCheck.dtype(embeds)), new BoolOptional(), false, new TensorArrayRefOptional());
            if (vitChain != null) {
                Tensor gCls = clsLeaf.grad();                                          // (Bi, k, d_v)
                Tensor out = vitChain.output();
                Tensor zero = Tensors.zerosLike(OpCheck.dtype(out), out, OpCheck.shape(out));
                vitChain.backward(zero, i -> {
                    Integer j = clsAt.get(i);
                    if (j == null) return null;
                    Tensor g = Tensors.zerosLike(OpCheck.dtype(out), out, OpCheck.shape(out));
                    g.select(1, 0).copy_(gCls.select(1, j));
                    return g;
                });
            }
            return value;
        } finally {
            for (Tensor c : cls) if (c != null) c.releaseReference();
            if (vitChain != null) vitChain.close();
            if (llmChain != null) llmChain.close();
        }
    }

    /** Number of supervised positions in a batch. */
    public static long supervised(MmaBatch batch) {
        return batch.labels().ne(new Scalar(-100)).sum().item().toLong();
    }

    List<Integer> eosIds() {
        return llm.config().eosTokenIds();
    }

    @Override
    public void close() {
        adapters.close();
    }
}
