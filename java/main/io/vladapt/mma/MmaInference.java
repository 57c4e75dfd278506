package io.vladapt.mma;

import io.vladapt.ext.OpCheck;
import io.vladapt.nn.GenerationConfig;
import io.vladapt.nn.Generator;
import io.vladapt.nn.LinearWeights;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.Masks;
import io.vladapt.nn.Params;
import io.vladapt.nn.Tensors;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Answers prompts (with or without an image) with a trained MMA model.
 *
 * <p>Routing is computed once per prompt: the modality token attends only to itself, so its state in
 * every layer depends on the modality alone; it runs as its own length-1 pass, each layer's routing
 * weights are kept, and the prompt and the generated tokens then run with those weights through the
 * fused no-grad adapter kernel. The modality token never enters the KV cache.
 *
 * <p>With {@code merged}, each modality's LLM adapters are folded into that modality's q/k/v
 * projections (re-parameterisation) and the LLM runs with no adapter at all; the ViT adapters, whose
 * routing depends on the image, stay unmerged. Answers equal the unmerged path's (tested).
 *
 * <p>A quantised LLM has no dense q/k/v to fold into (re-quantising W + W M A would change the answers),
 * so with {@code merged} it keeps the adapters on the fused kernel, exactly the unmerged path: same
 * answers by construction (tested), and a note says so once.
 */
public final class MmaInference implements AutoCloseable {
    private final MmaModel model;
    private final boolean merged;
    private final LlamaModel[] mergedLlm = new LlamaModel[2];

    /** A prompt and its preprocessed image (3, S, S), or null for text-only. */
    public record Prompt(String text, Tensor image) {}

    public MmaInference(MmaModel model, boolean merged) {
        this.model = model;
        boolean quantised = model.llm().quantization() != null;
        if (merged && quantised) {
            System.err.println("vladapt: --merged with a " + model.llm().quantization() + " LLM: adapters cannot fold into quantised "
                    + "weights, so they stay unmerged (the fused adapter kernel; same answers)");
        }
        this.merged = merged && !quantised;
    }

    /** Whether the adapters are folded into q/k/v (false for a quantised LLM even when merging was asked for). */
    public boolean merged() {
        return merged;
    }

    /** Generated answer text per prompt. */
    public List<String> answer(List<Prompt> prompts, GenerationConfig g, Generator.TokenListener listener) {
        return decode(generate(prompts, g, listener));
    }

    public List<String> decode(List<long[]> ids) {
        List<String> out = new ArrayList<>();
        for (long[] i : ids) out.add(model.tokenizer().decode(i));
        return out;
    }

    /** Generated ids per prompt (EOS not included). */
    public List<long[]> generate(List<Prompt> prompts, GenerationConfig g, Generator.TokenListener listener) {
        List<MmaExample> encoded = new ArrayList<>();
        for (Prompt p : prompts) encoded.add(new MmaExample(model.encode(p.text(), null, p.image() != null), p.image()));
        return generateEncoded(encoded, g, listener);
    }

    /** Generated ids for prompts already encoded with {@link MmaModel#encode} (no answer). */
    public List<long[]> generateEncoded(List<MmaExample> prompts, GenerationConfig g, Generator.TokenListener listener) {
        if (!merged) return run(prompts, g, listener, null);
        // one merged LLM per modality: generate each modality's rows separately, then restore the order
        List<long[]> result = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) result.add(null);
        for (int m = 0; m < 2; m++) {
            List<MmaExample> rows = new ArrayList<>();
            List<Integer> at = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                if ((prompts.get(i).encoded().hasImage() ? 1 : 0) == m) {
                    rows.add(prompts.get(i));
                    at.add(i);
                }
            }
            if (rows.isEmpty()) continue;
            int[] map = at.stream().mapToInt(Integer::intValue).toArray();
            Generator.TokenListener sub = listener == null ? null : (row, token) -> listener.onToken(map[row], token);
            List<long[]> got = run(rows, g, sub, mergedLlm(m));
            for (int j = 0; j < map.length; j++) result.set(map[j], got.get(j));
        }
        return result;
    }

    private List<long[]> run(List<MmaExample> prompts, GenerationConfig g, Generator.TokenListener listener, LlamaModel mergedModel) {
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            List<MmaModel.Encoded> enc = new ArrayList<>();
            List<Tensor> images = new ArrayList<>();
            for (MmaExample p : prompts) {
                enc.add(p.encoded());
                images.add(p.encoded().hasImage() ? p.image() : null);
            }
            // LaVIN's batch-dependent ViT routing (compat) needs every row in the ViT, as in its evaluation
            MmaBatch batch = MmaBatch.of(enc, images, model.config().vitRoutingCompat(), Math.max(0, model.tokenizer().padId()));
            Tensor hasImage = batch.hasImage();
            Tensor visual = model.visualTokens(batch, false);
            Tensor[] routes = routes(hasImage);
            Generator.Prefill prefill = prefill(enc, hasImage, visual);
            LlamaModel llm = mergedModel != null ? mergedModel : model.llm();
            LlamaModel.AttentionInputHook hook = mergedModel != null ? null : hook(routes);
            Generator.RowHook rowHook = mergedModel != null ? null : rows -> hook(select(routes, rows));
            Generator.Prefill withHook = new Generator.Prefill(prefill.embeds(), prefill.keyValid(), prefill.positions(), hook, rowHook);
            return new Generator(llm, model.tokenizer()::decode).generate(withHook, g, listener);
        }
    }

    /** Rows {@code rows} of each layer's routing weights: (B', 2) per layer (beam search runs each prompt as several rows). */
    public static Tensor[] select(Tensor[] routes, Tensor rows) {
        Tensor[] out = new Tensor[routes.length];
        for (int i = 0; i < routes.length; i++) out[i] = routes[i].index_select(0, Tensors.onDeviceOf(rows, routes[i]));
        return out;
    }

    /** The fused no-grad adapter hook for each LLM layer's routing weights (B, 2). */
    public LlamaModel.AttentionInputHook hook(Tensor[] routes) {
        return (layer, normed) -> MmAdapterOp.inferFused(normed, routes[layer], model.adapters().llm(layer), model.config().llmAdapter());
    }

    /**
     * One prompt made ready for a {@link io.vladapt.nn.BatchDecoder} (serving): embeddings (1, P, d)
     * with its visual tokens in place, RoPE positions (1, P), and each LLM layer's routing weights
     * (1, 2) for {@link #hook}; with {@code merged}, no routes and the modality's merged LLM instead.
     * Tensors live in the caller's scope; call under a NoGradGuard.
     */
    public Prepared prepare(Prompt p) {
        MmaModel.Encoded e = model.encode(p.text(), null, p.image() != null);
        Tensor hasImage = Tensors.longs(e.hasImage() ? 1 : 0);
        Tensor visual = e.hasImage() ? model.visualTokens(p.image().unsqueeze(0), false) : null;
        Generator.Prefill pre = prefill(List.of(e), hasImage, visual);
        if (merged) return new Prepared(pre.embeds(), pre.positions(), null, mergedLlm(e.hasImage() ? 1 : 0));
        return new Prepared(pre.embeds(), pre.positions(), routes(hasImage), model.llm());
    }

    /** See {@link #prepare}. */
    public record Prepared(Tensor embeds, Tensor positions, Tensor[] routes, LlamaModel llm) {}

    /**
     * Each LLM layer's routing weights (B, 2) for the given modalities, from a pass over the modality
     * tokens alone (position 0, attending only to themselves, exactly as inside the full sequence).
     */
    public Tensor[] routes(Tensor hasImage) {
        int layers = model.config().llmLayers();
        Tensor[] routes = new Tensor[layers];
        long b = hasImage.size(0);
        Tensor tm = model.adapters().modality(hasImage).unsqueeze(1);                  // (B, 1, d)
        Tensor zero = Tensors.zerosLike(ScalarType.Long, tm, b, 1);
        model.llm().forward(new LlamaModel.Input(tm, zero, null, null, (layer, normed) -> {
            MmAdapterWeights w = model.adapters().llm(layer);
            routes[layer] = MmAdapterOp.route(normed.select(1, 0), w.rW(), w.rB(), model.config().llmAdapter().temperature());
            return MmAdapterOp.inferFused(normed, routes[layer], w, model.config().llmAdapter());
        }, false));
        return routes;
    }

    /** Left-padded prompt embeddings with visual tokens in place; RoPE positions start at 1 (t_m holds 0). */
    private Generator.Prefill prefill(List<MmaModel.Encoded> enc, Tensor hasImage, Tensor visual) {
        int b = enc.size(), longest = enc.stream().mapToInt(e -> e.ids().length).max().orElse(0);
        long d = model.config().llmDim();
        TensorVector rows = new TensorVector();
        long[] valid = new long[b * longest];
        int imageRow = 0;
        for (int i = 0; i < b; i++) {
            MmaModel.Encoded e = enc.get(i);
            Tensor ids = Tensors.longs(e.ids()).view(1, e.ids().length);
            Tensor v = e.hasImage() ? visual.narrow(0, imageRow++, 1) : null;
            Tensor row = model.inputEmbeds(ids, Tensors.longs(e.hasImage() ? 1 : 0), v).narrow(1, 1, e.ids().length);  // drop t_m
            int pad = longest - e.ids().length;
            if (pad > 0) row = torch.cat(new TensorVector(Tensors.zerosLike(OpCheck.dtype(row), row, 1, pad, d), row), 1);
            rows.push_back(row);
            java.util.Arrays.fill(valid, i * longest + pad, (i + 1) * longest, 1);
        }
        Tensor keyValid = Tensors.longs(valid).view(b, longest).to(ScalarType.Bool);
        Tensor positions = Masks.positions(keyValid).add(new Scalar(1));
        return new Generator.Prefill(torch.cat(rows, 0), keyValid, positions, null);
    }

    /** The LLM with modality m's adapters folded into every layer's q, k and v projections. */
    LlamaModel mergedLlm(int m) {
        if (mergedLlm[m] != null) return mergedLlm[m];
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            Tensor[] routes = routes(Tensors.longs(m));
            LlamaModel base = model.llm();
            Params p = new Params();
            base.params().asMap().forEach(p::put);                                     // shared, not copied
            for (int i = 0; i < model.config().llmLayers(); i++) {
                for (String proj : new String[] {"q_proj", "k_proj", "v_proj"}) {
                    String name = "model.layers." + i + ".self_attn." + proj;
                    LinearWeights w = new LinearWeights(p.get(name + ".weight"), p.has(name + ".bias") ? p.get(name + ".bias") : null);
                    LinearWeights folded = Reparam.merge(w, model.adapters().llm(i), routes[i].select(0, 0),
                            model.config().llmAdapter());
                    p.put(name + ".weight", folded.weight());
                    p.put(name + ".bias", folded.bias());
                }
            }
            mergedLlm[m] = new LlamaModel(base.config(), p, base.dtype());
            return mergedLlm[m];
        }
    }

    @Override
    public void close() {
        for (LlamaModel l : mergedLlm) if (l != null) l.close();
    }
}
