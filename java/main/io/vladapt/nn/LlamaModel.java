package io.vladapt.nn;

import static org.bytedeco.pytorch.global.torch.embedding;
import static org.bytedeco.pytorch.global.torch.linear;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A LLaMA-family decoder: RMSNorm, RoPE, grouped-query attention through
 * scaled_dot_product_attention, SwiGLU MLP, tied or separate LM head. Parameters live in
 * {@link Params} under the HF names (model.layers.N.self_attn.q_proj.weight, ...). Numerics follow
 * transformers' LlamaForCausalLM (RMSNorm in float32, rotate-half RoPE), which the tests check.
 */
public final class LlamaModel implements AutoCloseable {
    private final LlamaConfig config;
    private final Params params;
    private final Rope rope;
    private final ScalarType dtype;
    private final Map<String, Projection> layers;
    private final String quantization;

    /** Called on each block's normalised input before attention (LaVIN puts its MM-Adapter there). */
    @FunctionalInterface
    public interface AttentionInputHook {
        Tensor apply(int layer, Tensor normed);
    }

    /**
     * One forward pass.
     *
     * @param embeds       (B, T, d) input embeddings ({@link #embed} for token ids); cast to the model's
     *                     dtype (a float32 modality token or visual token joins bf16 text embeddings)
     * @param positions    (B, T) int64 RoPE positions
     * @param mask         (B, 1, T, Tk) bool, true = may attend; null = plain causal over this chunk
     *                     (only without a cache or with an empty one)
     * @param cache        KV cache to read and extend, or null
     * @param hook         adapter hook, or null
     * @param hiddenStates whether to return every layer's hidden state
     * @param logits       whether to apply the LM head; false returns only {@link Output#lastHidden} (a
     *                     loss that reads a few positions applies {@link #logits} to just those)
     */
    public record Input(Tensor embeds, Tensor positions, Tensor mask, KvCache cache, AttentionInputHook hook,
                        boolean hiddenStates, boolean logits) {
        public Input(Tensor embeds, Tensor positions, Tensor mask, KvCache cache, AttentionInputHook hook, boolean hiddenStates) {
            this(embeds, positions, mask, cache, hook, hiddenStates, true);
        }
    }

    /**
     * @param logits       (B, T, vocab) in the model's dtype, or null when not asked for
     * @param hiddenStates as transformers returns them: the embeddings, then each block's output, the
     *                     last one after the final norm (numLayers + 1 tensors); empty unless asked for
     * @param lastHidden   (B, T, d) after the final norm
     */
    public record Output(Tensor logits, List<Tensor> hiddenStates, Tensor lastHidden) {}

    public LlamaModel(LlamaConfig config, Params params, ScalarType dtype) {
        this(config, params, dtype, Map.of(), null);
    }

    /**
     * @param layers       projections held outside {@code params}, by module name ("model.layers.0.self_attn.q_proj"):
     *                     quantised ones; the model owns and closes them. Every other projection is dense in params.
     * @param quantization how those layers are held ("int4:64"), for messages; null when there are none
     */
    public LlamaModel(LlamaConfig config, Params params, ScalarType dtype, Map<String, ? extends Projection> layers, String quantization) {
        this.config = config;
        this.params = params;
        this.dtype = dtype;
        this.layers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(layers));
        this.quantization = layers.isEmpty() ? null : quantization;
        this.rope = new Rope(config);
    }

    /** The tensors a config calls for, by HF name, with their shapes. */
    public static Map<String, long[]> parameterShapes(LlamaConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        long d = c.hiddenSize(), hd = c.headDim(), q = (long) c.numHeads() * hd, kv = (long) c.numKvHeads() * hd;
        m.put("model.embed_tokens.weight", new long[] {c.vocabSize(), d});
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "input_layernorm.weight", new long[] {d});
            m.put(p + "self_attn.q_proj.weight", new long[] {q, d});
            m.put(p + "self_attn.k_proj.weight", new long[] {kv, d});
            m.put(p + "self_attn.v_proj.weight", new long[] {kv, d});
            m.put(p + "self_attn.o_proj.weight", new long[] {d, q});
            if (c.attentionBias()) {
                m.put(p + "self_attn.q_proj.bias", new long[] {q});
                m.put(p + "self_attn.k_proj.bias", new long[] {kv});
                m.put(p + "self_attn.v_proj.bias", new long[] {kv});
                m.put(p + "self_attn.o_proj.bias", new long[] {d});
            }
            m.put(p + "post_attention_layernorm.weight", new long[] {d});
            m.put(p + "mlp.gate_proj.weight", new long[] {c.intermediateSize(), d});
            m.put(p + "mlp.up_proj.weight", new long[] {c.intermediateSize(), d});
            m.put(p + "mlp.down_proj.weight", new long[] {d, c.intermediateSize()});
        }
        m.put("model.norm.weight", new long[] {d});
        if (!c.tieWordEmbeddings()) m.put("lm_head.weight", new long[] {c.vocabSize(), d});
        return m;
    }

    public LlamaConfig config() {
        return config;
    }

    public Params params() {
        return params;
    }

    public ScalarType dtype() {
        return dtype;
    }

    /** The quantisation scheme of its frozen projections ("int8", "int4:128"), or null when they are dense. */
    public String quantization() {
        return quantization;
    }

    /** Projections held outside {@link #params()} (quantised), by module name; empty for a dense model. */
    public Map<String, Projection> layers() {
        return layers;
    }

    /** Module {@code name}'s projection ("model.layers.0.mlp.up_proj"): its held layer, or its dense weight and bias. */
    public Projection projection(String name) {
        Projection p = layers.get(name);
        if (p != null) return p;
        String bias = name + ".bias";
        return new LinearWeights(params.get(name + ".weight"), params.has(bias) ? params.get(bias) : null);
    }

    /** Where the weights live (cpu, cuda:N, meta). */
    public Device device() {
        return params.get("model.embed_tokens.weight").device();
    }

    /** Token ids (B, T) int64 -> embeddings (B, T, d), on the model's device. */
    public Tensor embed(Tensor ids) {
        Tensor w = params.get("model.embed_tokens.weight");
        return embedding(w, Tensors.onDeviceOf(ids, w));
    }

    /** Causal forward over token ids (B, T) from position 0, no cache. */
    public Output forward(Tensor ids, boolean hiddenStates) {
        Tensor e = embed(ids);
        long b = ids.size(0), t = ids.size(1);
        Tensor positions = torch.arange(new Scalar(t), Tensors.options(ScalarType.Long, e)).unsqueeze(0).expand(b, t);
        return forward(new Input(e, positions, null, null, null, hiddenStates));
    }

    public Output forward(Input in) {
        Tensor h = in.embeds().to(dtype);                                          // (B, T, d)
        Pass pass = pass(in.positions(), in.mask(), in.cache(), in.hook());
        List<Tensor> states = new ArrayList<>();
        for (int i = 0; i < config.numLayers(); i++) {
            if (in.hiddenStates()) states.add(h);
            h = block(i, h, pass);
        }
        if (in.cache() != null) in.cache().advance(in.embeds().size(1));
        h = finalNorm(h);
        if (in.hiddenStates()) states.add(h);
        return new Output(in.logits() ? logits(h) : null, states, h);
    }

    /**
     * What every block of one forward pass shares: RoPE tables (B, 1, T, hd) for its positions, the
     * mask, the KV cache and the adapter hook.
     */
    public record Pass(Tensor[] cosSin, Tensor mask, KvCache cache, AttentionInputHook hook) {}

    public Pass pass(Tensor positions, Tensor mask, KvCache cache, AttentionInputHook hook) {
        if (mask == null && cache != null && cache.length() > 0) {
            throw new IllegalArgumentException("a forward pass that continues a KV cache needs an explicit mask");
        }
        Tensor w = params.get("model.embed_tokens.weight");
        return new Pass(rope.cosSin(Tensors.onDeviceOf(positions, w), dtype), mask, cache, hook);
    }

    /** Block i: h + attention(adapter(norm(h))), then + MLP(norm). (B, T, d) -> (B, T, d). */
    public Tensor block(int i, Tensor h, Pass pass) {
        String p = "model.layers." + i + ".";
        Tensor n = rmsNorm(h, params.get(p + "input_layernorm.weight"));
        if (pass.hook() != null) n = pass.hook().apply(i, n);
        h = h.add(attention(i, n, pass));
        Tensor n2 = rmsNorm(h, params.get(p + "post_attention_layernorm.weight"));
        return h.add(mlp(p, n2));
    }

    /** The final RMSNorm. */
    public Tensor finalNorm(Tensor h) {
        return rmsNorm(h, params.get("model.norm.weight"));
    }

    /** LM head over normalised states (..., d) -> (..., vocab), in the model's dtype. */
    public Tensor logits(Tensor normed) {
        return linear(normed, lmHead());
    }

    public Tensor lmHead() {
        return config.tieWordEmbeddings() ? params.get("model.embed_tokens.weight") : params.get("lm_head.weight");
    }

    /** HF's LlamaRMSNorm: normalise in float32, cast back, then scale. */
    public Tensor rmsNorm(Tensor x, Tensor weight) {
        Tensor x32 = x.to(ScalarType.Float);
        Tensor var = x32.pow(new Scalar(2)).mean(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        Tensor normed = x32.mul(var.add(new Scalar(config.rmsNormEps())).rsqrt());
        return weight.mul(normed.to(x.scalar_type()));
    }

    private Tensor attention(int layer, Tensor x, Pass pass) {
        String p = "model.layers." + layer + ".self_attn.";
        long b = x.size(0), t = x.size(1);
        int hd = config.headDim(), heads = config.numHeads(), kvHeads = config.numKvHeads();
        Tensor q = proj(p + "q_proj", x).view(b, t, heads, hd).transpose(1, 2);         // (B, H, T, hd)
        Tensor k = proj(p + "k_proj", x).view(b, t, kvHeads, hd).transpose(1, 2);       // (B, Hkv, T, hd)
        Tensor v = proj(p + "v_proj", x).view(b, t, kvHeads, hd).transpose(1, 2);
        q = Rope.apply(q, pass.cosSin()[0], pass.cosSin()[1]);
        k = Rope.apply(k, pass.cosSin()[0], pass.cosSin()[1]);
        if (pass.cache() != null) {
            Tensor[] kv = pass.cache().append(layer, k, v);                            // (B, Hkv, Tk, hd)
            k = kv[0];
            v = kv[1];
        }
        Tensor mask = pass.mask() == null ? null : Tensors.onDeviceOf(pass.mask(), q);
        Tensor o = Attention.attend(q, k, v, mask, true);                               // (B, H, T, hd)
        return proj(p + "o_proj", o.transpose(1, 2).reshape(b, t, (long) heads * hd));
    }

    private Tensor mlp(String p, Tensor x) {
        Tensor gate = proj(p + "mlp.gate_proj", x);
        Tensor up = proj(p + "mlp.up_proj", x);
        return proj(p + "mlp.down_proj", torch.silu(gate).mul(up));
    }

    /** A projection, with its bias when the model has one (attention_bias, or adapters merged into it). */
    private Tensor proj(String name, Tensor x) {
        return projection(name).forward(x);
    }

    @Override
    public void close() {
        layers.values().forEach(Projection::close);
        rope.close();
        params.close();
    }
}
