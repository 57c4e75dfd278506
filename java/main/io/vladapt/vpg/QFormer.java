package io.vladapt.vpg;

import static org.bytedeco.pytorch.global.torch.dropout;
import static org.bytedeco.pytorch.global.torch.layer_norm;
import static org.bytedeco.pytorch.global.torch.linear;

import io.vladapt.ext.OpCheck;
import io.vladapt.nn.Params;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The VPG of BLIP-2 and VPGTrans: ln_vision over the frozen ViT's features, then BLIP-2's Q-Former run
 * on the learned query tokens alone (the text side is gone). The Q-Former is BERT with post-LN blocks:
 * self-attention over the queries, cross-attention from the queries to the ViT features every
 * cross_attention_frequency layers, then the query FFN. Nothing is masked: the queries see each other
 * and every ViT token (HF passes an all-ones image mask, which is a no-op).
 *
 * <p>Parameters are named as in HF's Blip2ForConditionalGeneration (query_tokens, qformer.*), except
 * ln_vision, which keeps BLIP-2/LAVIS's name (HF calls it vision_model.post_layernorm; see
 * {@link QFormerNames}). All of them are trainable in VPGTrans.
 */
public final class QFormer implements AutoCloseable {
    private final QFormerConfig config;
    private final Params params;

    public QFormer(QFormerConfig config, Params params) {
        this.config = config;
        this.params = params;
    }

    /** The tensors a config calls for, by name, with their shapes. */
    public static Map<String, long[]> parameterShapes(QFormerConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        long h = c.hiddenSize(), dv = c.encoderHiddenSize(), ffn = c.intermediateSize();
        m.put(QFormerNames.QUERY_TOKENS, new long[] {1, c.numQueryTokens(), h});
        norm(m, QFormerNames.LN_VISION, dv);
        norm(m, QFormerNames.EMBED_NORM, h);
        for (int i = 0; i < c.numLayers(); i++) {
            String p = QFormerNames.layer(i);
            attentionBlock(m, p + "attention.", h, h);
            if (c.hasCrossAttention(i)) attentionBlock(m, p + "crossattention.", h, dv);
            dense(m, p + "intermediate_query.dense", ffn, h);
            dense(m, p + "output_query.dense", h, ffn);
            norm(m, p + "output_query.LayerNorm", h);
        }
        return m;
    }

    private static void attentionBlock(Map<String, long[]> m, String p, long h, long kvIn) {
        dense(m, p + "attention.query", h, h);
        dense(m, p + "attention.key", h, kvIn);
        dense(m, p + "attention.value", h, kvIn);
        dense(m, p + "output.dense", h, h);
        norm(m, p + "output.LayerNorm", h);
    }

    private static void dense(Map<String, long[]> m, String name, long out, long in) {
        m.put(name + ".weight", new long[] {out, in});
        m.put(name + ".bias", new long[] {out});
    }

    private static void norm(Map<String, long[]> m, String name, long d) {
        m.put(name + ".weight", new long[] {d});
        m.put(name + ".bias", new long[] {d});
    }

    public QFormerConfig config() {
        return config;
    }

    public Params params() {
        return params;
    }

    /** What VPGTrans trains: every tensor of the VPG (ln_vision, Q-Former, queries). The same container as {@link #params()}. */
    public Params trainableParams() {
        return params;
    }

    /**
     * ViT features (B, N, d_v) -> query outputs (B, Q, h) in the parameters' dtype. The features are cast
     * to that dtype first (HF keeps the Q-Former in float32 under a half-precision ViT the same way).
     * Dropout (hidden and attention probabilities) only when {@code train}.
     */
    public Tensor forward(Tensor imageEmbeds, boolean train) {
        Tensor queries = params.get(QFormerNames.QUERY_TOKENS);                         // (1, Q, h)
        checkInput(imageEmbeds, queries);
        long b = imageEmbeds.size(0), q = config.numQueryTokens(), h = config.hiddenSize();
        Tensor vision = norm(imageEmbeds.to(OpCheck.dtype(queries)), QFormerNames.LN_VISION,
                config.encoderHiddenSize(), config.visionLayerNormEps());               // (B, N, d_v)
        Tensor x = norm(queries.expand(b, q, h), QFormerNames.EMBED_NORM, h, config.layerNormEps());
        x = drop(x, train);                                                             // (B, Q, h)
        for (int i = 0; i < config.numLayers(); i++) {
            String p = QFormerNames.layer(i);
            x = attentionBlock(p + "attention.", x, x, train);                          // (B, Q, h)
            if (config.hasCrossAttention(i)) x = attentionBlock(p + "crossattention.", x, vision, train);
            Tensor f = torch.gelu(lin(p + "intermediate_query.dense", x));             // (B, Q, ffn)
            x = addAndNorm(p + "output_query.", f, x, train);                           // (B, Q, h)
        }
        return x;
    }

    private void checkInput(Tensor x, Tensor queries) {
        if (x == null || x.isNull() || !x.defined()) {
            throw new IllegalArgumentException("QFormer.forward: imageEmbeds is null or undefined");
        }
        long[] s = OpCheck.shape(x);
        long dv = config.encoderHiddenSize();
        if (s.length != 3) {
            throw new IllegalArgumentException("QFormer.forward: imageEmbeds must be (B, N, d_v) with d_v = encoder_hidden_size "
                    + dv + ", got rank " + s.length + ": " + OpCheck.describe(x));
        }
        if (s[2] != dv) {
            throw new IllegalArgumentException("QFormer.forward: imageEmbeds width " + s[2] + " != encoder_hidden_size " + dv
                    + " (imageEmbeds " + OpCheck.describe(x) + "); is this the right ViT for this VPG?");
        }
        if (s[0] == 0 || s[1] == 0) {
            throw new IllegalArgumentException("QFormer.forward: imageEmbeds " + Arrays.toString(s) + " has no images or no tokens");
        }
        if (!OpCheck.isFloating(OpCheck.dtype(x))) {
            throw new IllegalArgumentException("QFormer.forward: imageEmbeds must be floating point, got " + OpCheck.describe(x));
        }
        String on = x.device().str().getString(), paramsOn = queries.device().str().getString();
        if (!on.equals(paramsOn)) {
            throw new IllegalArgumentException("QFormer.forward: imageEmbeds is on " + on + " but the VPG's parameters are on " + paramsOn);
        }
    }

    /** BERT's attention block: LayerNorm(dropout(dense(attention(x, kv))) + x). kv is x for self-attention. */
    private Tensor attentionBlock(String p, Tensor x, Tensor kv, boolean train) {
        long b = x.size(0), t = x.size(1), s = kv.size(1), heads = config.numHeads(), hd = config.headDim();
        String a = p + "attention.";
        Tensor q = lin(a + "query", x).view(b, t, heads, hd).transpose(1, 2);           // (B, H, Q, hd)
        Tensor k = lin(a + "key", kv).view(b, s, heads, hd).transpose(1, 2);            // (B, H, S, hd)
        Tensor v = lin(a + "value", kv).view(b, s, heads, hd).transpose(1, 2);          // (B, H, S, hd)
        double pDrop = train ? config.attentionDropout() : 0.0;
        Tensor o = torch.scaled_dot_product_attention(q, k, v, new TensorOptional(), pDrop, false,
                new DoubleOptional(), false);                                           // (B, H, Q, hd)
        o = o.transpose(1, 2).reshape(b, t, config.hiddenSize());                       // (B, Q, h)
        return addAndNorm(p + "output.", o, x, train);
    }

    /** BERT's post-LN residual: LayerNorm(dropout(dense(y)) + residual). */
    private Tensor addAndNorm(String p, Tensor y, Tensor residual, boolean train) {
        Tensor d = drop(lin(p + "dense", y), train);                                    // (B, Q, h)
        return norm(d.add(residual), p + "LayerNorm", config.hiddenSize(), config.layerNormEps());
    }

    private Tensor drop(Tensor x, boolean train) {
        return train && config.hiddenDropout() > 0 ? dropout(x, config.hiddenDropout(), true) : x;
    }

    private Tensor lin(String name, Tensor x) {
        return linear(x, params.get(name + ".weight"), new TensorOptional(params.get(name + ".bias")));
    }

    private Tensor norm(Tensor x, String name, long width, double eps) {
        return layer_norm(x, new long[] {width}, new TensorOptional(params.get(name + ".weight")),
                new TensorOptional(params.get(name + ".bias")), eps, false);
    }

    /** The parameters' dtype (float32 unless converted). */
    public ScalarType dtype() {
        return OpCheck.dtype(params.get(QFormerNames.QUERY_TOKENS));
    }

    @Override
    public void close() {
        params.close();
    }
}
