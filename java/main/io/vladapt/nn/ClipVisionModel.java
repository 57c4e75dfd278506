package io.vladapt.nn;

import static org.bytedeco.pytorch.global.torch.layer_norm;
import static org.bytedeco.pytorch.global.torch.linear;

import io.vladapt.ext.OpCheck;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * CLIP's vision transformer (HF CLIPVisionModel): patch convolution, class token, learned position
 * table, pre-LayerNorm, pre-LN blocks with quick_gelu or gelu MLPs. Parameters under the HF names
 * (vision_model.encoder.layers.N.self_attn.q_proj.weight, ...). LaVIN reads the [CLS] token of
 * selected blocks' outputs, before post_layernorm: {@link Output#hiddenStates()}.get(k) is block k's
 * output (index 0 is the embeddings after pre_layrnorm), exactly as transformers numbers them.
 */
public final class ClipVisionModel implements AutoCloseable {
    private static final String P = "vision_model.";
    private final ClipVisionConfig config;
    private final Params params;
    private final Map<String, Projection> layers;
    private final String quantization;

    /** (B, N+1, d) states: the block's input to attention, after layer_norm1 (adapter hook). */
    @FunctionalInterface
    public interface AttentionInputHook {
        Tensor apply(int layer, Tensor normed);
    }

    /**
     * @param lastHiddenState the last block's output (B, N+1, d)
     * @param pooled          post_layernorm of the [CLS] token (B, d)
     * @param hiddenStates    embeddings + every block's output (numLayers + 1), when asked for
     */
    public record Output(Tensor lastHiddenState, Tensor pooled, List<Tensor> hiddenStates) {}

    public ClipVisionModel(ClipVisionConfig config, Params params) {
        this(config, params, Map.of(), null);
    }

    /**
     * @param layers       projections held outside {@code params} (quantised), by module name
     *                     ("vision_model.encoder.layers.0.mlp.fc1"); the model owns and closes them
     * @param quantization their scheme ("int8"), for messages; null when there are none
     */
    public ClipVisionModel(ClipVisionConfig config, Params params, Map<String, ? extends Projection> layers, String quantization) {
        this.config = config;
        this.params = params;
        this.layers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(layers));
        this.quantization = layers.isEmpty() ? null : quantization;
    }

    /** The quantisation scheme of its projections, or null when they are dense. */
    public String quantization() {
        return quantization;
    }

    /** Projections held outside {@link #params()} (quantised), by module name; empty for a dense tower. */
    public Map<String, Projection> layers() {
        return layers;
    }

    /** The tensors a config calls for, by HF name, with their shapes. */
    public static Map<String, long[]> parameterShapes(ClipVisionConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        long d = c.hiddenSize();
        m.put(P + "embeddings.patch_embedding.weight", new long[] {d, c.numChannels(), c.patchSize(), c.patchSize()});
        m.put(P + "embeddings.class_embedding", new long[] {d});
        m.put(P + "embeddings.position_embedding.weight", new long[] {c.numPositions(), d});
        m.put(P + "pre_layrnorm.weight", new long[] {d});
        m.put(P + "pre_layrnorm.bias", new long[] {d});
        for (int i = 0; i < c.numLayers(); i++) {
            String p = P + "encoder.layers." + i + ".";
            for (String ln : new String[] {"layer_norm1", "layer_norm2"}) {
                m.put(p + ln + ".weight", new long[] {d});
                m.put(p + ln + ".bias", new long[] {d});
            }
            for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) {
                m.put(p + "self_attn." + proj + ".weight", new long[] {d, d});
                m.put(p + "self_attn." + proj + ".bias", new long[] {d});
            }
            m.put(p + "mlp.fc1.weight", new long[] {c.intermediateSize(), d});
            m.put(p + "mlp.fc1.bias", new long[] {c.intermediateSize()});
            m.put(p + "mlp.fc2.weight", new long[] {d, c.intermediateSize()});
            m.put(p + "mlp.fc2.bias", new long[] {d});
        }
        m.put(P + "post_layernorm.weight", new long[] {d});
        m.put(P + "post_layernorm.bias", new long[] {d});
        return m;
    }

    public ClipVisionConfig config() {
        return config;
    }

    public Params params() {
        return params;
    }

    /** The weights' dtype: the tower computes in it (pixels are cast on entry). */
    public ScalarType dtype() {
        return OpCheck.dtype(params.get(P + "embeddings.patch_embedding.weight"));
    }

    /** pixels (B, C, H, W), normalised (any float dtype and device: cast to the weights'). */
    public Output forward(Tensor pixels, AttentionInputHook hook, boolean hiddenStates) {
        Tensor h = embeddings(pixels);                                                  // (B, N+1, d)
        List<Tensor> states = new ArrayList<>();
        if (hiddenStates) states.add(h);
        for (int i = 0; i < config.numLayers(); i++) {
            h = block(i, h, hook);
            if (hiddenStates) states.add(h);
        }
        Tensor cls = h.select(1, 0);                                                    // (B, d)
        return new Output(h, norm(cls, P + "post_layernorm"), states);
    }

    /** Patch, class and position embeddings after pre_layrnorm: hidden state 0, (B, N+1, d). */
    public Tensor embeddings(Tensor pixels) {
        Tensor w = params.get(P + "embeddings.patch_embedding.weight");
        return norm(embed(Tensors.onDeviceOf(pixels, w).to(dtype())), P + "pre_layrnorm");
    }

    /** Block i: h + attention(hook(layer_norm1(h))), then + MLP(layer_norm2). (B, N+1, d) -> (B, N+1, d). */
    public Tensor block(int i, Tensor h, AttentionInputHook hook) {
        String p = P + "encoder.layers." + i + ".";
        Tensor n = norm(h, p + "layer_norm1");
        if (hook != null) n = hook.apply(i, n);
        h = h.add(attention(p + "self_attn.", n));
        return h.add(mlp(p + "mlp.", norm(h, p + "layer_norm2")));
    }

    private Tensor embed(Tensor pixels) {
        long b = pixels.size(0), d = config.hiddenSize();
        if (pixels.dim() != 4 || pixels.size(1) != config.numChannels()) {
            throw new IllegalArgumentException("CLIP: pixels must be (B, " + config.numChannels() + ", H, W), got "
                    + java.util.Arrays.toString(OpCheck.shape(pixels)));
        }
        long ph = pixels.size(2) / config.patchSize(), pw = pixels.size(3) / config.patchSize();
        Tensor pos = params.get(P + "embeddings.position_embedding.weight");            // (N+1, d)
        if (ph * pw + 1 != pos.size(0) || pixels.size(2) % config.patchSize() != 0 || pixels.size(3) % config.patchSize() != 0) {
            throw new IllegalArgumentException("CLIP: a " + pixels.size(2) + "x" + pixels.size(3) + " image gives "
                    + (ph * pw + 1) + " positions with patch " + config.patchSize() + ", but the position table has "
                    + pos.size(0) + " (resize to " + config.imageSize() + "x" + config.imageSize() + ")");
        }
        long[] stride = {config.patchSize(), config.patchSize()}, zero = {0, 0}, one = {1, 1};
        Tensor patches = torch.conv2d(pixels, params.get(P + "embeddings.patch_embedding.weight"), new TensorOptional(),
                stride, zero, one, 1);                                                  // (B, d, ph, pw)
        patches = patches.flatten(2, 3).transpose(1, 2);                                // (B, N, d)
        Tensor cls = params.get(P + "embeddings.class_embedding").view(1, 1, d).expand(b, 1, d);
        return torch.cat(new TensorVector(cls, patches), 1).add(pos.unsqueeze(0));      // (B, N+1, d)
    }

    private Tensor attention(String p, Tensor x) {
        long b = x.size(0), t = x.size(1), heads = config.numHeads(), hd = config.hiddenSize() / heads;
        Tensor q = lin(p + "q_proj", x).view(b, t, heads, hd).transpose(1, 2);          // (B, H, T, hd)
        Tensor k = lin(p + "k_proj", x).view(b, t, heads, hd).transpose(1, 2);
        Tensor v = lin(p + "v_proj", x).view(b, t, heads, hd).transpose(1, 2);
        Tensor o = Attention.attend(q, k, v, null, false);                              // (B, H, N+1, hd)
        return lin(p + "out_proj", o.transpose(1, 2).reshape(b, t, config.hiddenSize()));
    }

    private Tensor mlp(String p, Tensor x) {
        Tensor h = lin(p + "fc1", x);
        h = config.hiddenAct().equals("quick_gelu") ? h.mul(torch.sigmoid(h.mul(new Scalar(1.702)))) : torch.gelu(h);
        return lin(p + "fc2", h);
    }

    private Tensor lin(String name, Tensor x) {
        Projection p = layers.get(name);
        if (p != null) return p.forward(x);
        return linear(x, params.get(name + ".weight"), new TensorOptional(params.get(name + ".bias")));
    }

    private Tensor norm(Tensor x, String name) {
        return layer_norm(x, new long[] {config.hiddenSize()}, new TensorOptional(params.get(name + ".weight")),
                new TensorOptional(params.get(name + ".bias")), config.layerNormEps(), false);
    }

    @Override
    public void close() {
        layers.values().forEach(Projection::close);
        params.close();
    }
}
