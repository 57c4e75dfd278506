package io.vladapt.vpg;

/**
 * Shapes and regularisation of a VPG: ln_vision + BLIP-2's Q-Former + learned queries.
 *
 * @param hiddenSize              query width h (BERT-base: 768)
 * @param numLayers               Q-Former layers
 * @param numHeads                attention heads (self- and cross-attention alike)
 * @param intermediateSize        FFN width of the query FFN
 * @param crossAttentionFrequency layer i cross-attends to the ViT when i % frequency == 0 (BLIP-2: 2)
 * @param encoderHiddenSize       ViT width d_v: ln_vision's width and the cross-attention key/value input
 * @param numQueryTokens          learned queries Q (BLIP-2: 32)
 * @param layerNormEps            eps of the Q-Former's LayerNorms (BERT: 1e-12)
 * @param visionLayerNormEps      eps of ln_vision (LAVIS: 1e-5, nn.LayerNorm's default; HF's port: 1e-6)
 * @param hiddenDropout           dropout after the embeddings' LayerNorm and every dense output (BERT: 0.1)
 * @param attentionDropout        dropout on the attention probabilities (BERT: 0.1)
 */
public record QFormerConfig(int hiddenSize, int numLayers, int numHeads, int intermediateSize,
                            int crossAttentionFrequency, int encoderHiddenSize, int numQueryTokens,
                            double layerNormEps, double visionLayerNormEps, double hiddenDropout,
                            double attentionDropout) {
    public QFormerConfig {
        positive("hidden_size", hiddenSize);
        positive("num_hidden_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("intermediate_size", intermediateSize);
        positive("cross_attention_frequency", crossAttentionFrequency);
        positive("encoder_hidden_size", encoderHiddenSize);
        positive("num_query_tokens", numQueryTokens);
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("Q-Former config: hidden_size " + hiddenSize
                    + " is not a multiple of num_attention_heads " + numHeads);
        }
        probability("hidden_dropout_prob", hiddenDropout);
        probability("attention_probs_dropout_prob", attentionDropout);
        if (!(layerNormEps > 0) || !(visionLayerNormEps > 0)) {
            throw new IllegalArgumentException("Q-Former config: layer_norm_eps " + layerNormEps
                    + " and vision_layer_norm_eps " + visionLayerNormEps + " must be > 0");
        }
    }

    /**
     * BLIP-2's VPG as VPGTrans uses it: BERT-base (12 x 768, 12 heads, FFN 3072, eps 1e-12), cross-attention
     * every second layer, 32 queries, dropout 0.1, LAVIS's ln_vision (eps 1e-5) over a ViT of the given width
     * (EVA ViT-g: 1408, CLIP ViT-L: 1024).
     */
    public static QFormerConfig blip2(int encoderHiddenSize) {
        return new QFormerConfig(768, 12, 12, 3072, 2, encoderHiddenSize, 32, 1e-12, 1e-5, 0.1, 0.1);
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** Whether layer i has a cross-attention block (i = 0, f, 2f, ...). */
    public boolean hasCrossAttention(int layer) {
        return layer % crossAttentionFrequency == 0;
    }

    /** The same shapes with other dropout probabilities (e.g. 0 for deterministic training tests). */
    public QFormerConfig withDropout(double hidden, double attention) {
        return new QFormerConfig(hiddenSize, numLayers, numHeads, intermediateSize, crossAttentionFrequency,
                encoderHiddenSize, numQueryTokens, layerNormEps, visionLayerNormEps, hidden, attention);
    }

    private static void positive(String field, int v) {
        if (v <= 0) throw new IllegalArgumentException("Q-Former config: " + field + " must be > 0, got " + v);
    }

    private static void probability(String field, double p) {
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("Q-Former config: " + field + " must be in [0, 1), got " + p);
    }
}
