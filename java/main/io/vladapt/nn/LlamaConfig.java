package io.vladapt.nn;

import java.util.List;

/**
 * Shapes and constants of a LLaMA-family decoder (LLaMA 1/2/3, Vicuna, TinyLlama, the tiny models
 * VLAdapt makes). Read from HF config.json or Meta params.json by {@link io.vladapt.io.ModelConfigs}.
 *
 * @param ropeScaling null for plain RoPE
 * @param eosTokenIds every id that ends generation (LLaMA 3 has several)
 * @param padTokenId  -1 when the model has none
 */
public record LlamaConfig(int vocabSize, int hiddenSize, int intermediateSize, int numLayers, int numHeads,
                          int numKvHeads, int headDim, double rmsNormEps, double ropeTheta, RopeScaling ropeScaling,
                          int maxPositions, boolean tieWordEmbeddings, boolean attentionBias, int bosTokenId,
                          List<Integer> eosTokenIds, int padTokenId, String dtype) {

    /** RoPE frequency scaling: "llama3" (LLaMA 3.1) or "linear" (position interpolation). */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                              int originalMaxPositions) {}

    public LlamaConfig {
        require(vocabSize > 0, "vocab_size must be positive, got " + vocabSize);
        require(hiddenSize > 0 && numLayers > 0 && numHeads > 0 && numKvHeads > 0 && intermediateSize > 0,
                "sizes must be positive");
        require(numHeads % numKvHeads == 0, "num_attention_heads " + numHeads + " is not a multiple of num_key_value_heads "
                + numKvHeads);
        require(headDim % 2 == 0, "head_dim must be even for RoPE, got " + headDim);
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("LLaMA config: " + message);
    }

    /** The same config with tied embeddings switched. */
    public LlamaConfig withTiedEmbeddings(boolean tied) {
        return new LlamaConfig(vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                rmsNormEps, ropeTheta, ropeScaling, maxPositions, tied, attentionBias, bosTokenId, eosTokenIds,
                padTokenId, dtype);
    }

    /** The same config with other ids ending generation. */
    public LlamaConfig withEosTokenIds(List<Integer> eos) {
        return new LlamaConfig(vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                rmsNormEps, ropeTheta, ropeScaling, maxPositions, tieWordEmbeddings, attentionBias, bosTokenId, eos,
                padTokenId, dtype);
    }

    /** The same config without RoPE scaling. */
    public LlamaConfig withoutRopeScaling() {
        return new LlamaConfig(vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                rmsNormEps, ropeTheta, null, maxPositions, tieWordEmbeddings, attentionBias, bosTokenId, eosTokenIds,
                padTokenId, dtype);
    }
}
