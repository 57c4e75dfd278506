package io.vladapt.mma;

/**
 * Shapes and settings of Mixture-of-Modality Adaptation on a given LLM and ViT.
 *
 * @param llmLayers        LLM blocks (one MM-Adapter each, before attention)
 * @param llmDim           LLM width
 * @param vitLayers        ViT blocks (one MM-Adapter each, before attention)
 * @param vitDim           ViT width
 * @param rank             adapter bottleneck r (LaVIN: 8)
 * @param llmAdapter       groups, scale, router temperature (LaVIN: 10 for 7B, 5 for 13B), dropout
 * @param vitAdapter       the same for the ViT adapters
 * @param neckHidden       visual neck width (LaVIN: 128)
 * @param visualTokens     [CLS] states of this many evenly spaced ViT blocks become visual tokens (LaVIN: 6)
 * @param vitRoutingCompat route every image's ViT adapters by the first image of the batch, as LaVIN's code
 *                         does (its CLIP runs in (L, N, D) layout, so x[:, 0] is sample 0); off: each sample
 *                         routes by its own states
 */
public record MmaConfig(int llmLayers, int llmDim, int vitLayers, int vitDim, int rank, AdapterSettings llmAdapter,
                        AdapterSettings vitAdapter, int neckHidden, int visualTokens, boolean vitRoutingCompat) {
    public MmaConfig {
        if (rank % llmAdapter.groups() != 0 || rank % vitAdapter.groups() != 0) {
            throw new IllegalArgumentException("MMA: rank " + rank + " is not divisible by the adapter groups");
        }
        if (visualTokens < 1 || visualTokens > vitLayers) {
            throw new IllegalArgumentException("MMA: " + visualTokens + " visual tokens need at least that many ViT blocks, got " + vitLayers);
        }
    }

    /** LaVIN-7B: LLaMA-7B (32 x 4096) and CLIP ViT-L/14 (24 x 1024), r 8, groups 2, temperature 10. */
    public static MmaConfig lavin7b() {
        return lavin(32, 4096, 10.0);
    }

    /** LaVIN-13B: LLaMA-13B (40 x 5120), temperature 5. */
    public static MmaConfig lavin13b() {
        return lavin(40, 5120, 5.0);
    }

    private static MmaConfig lavin(int layers, int dim, double temperature) {
        AdapterSettings s = new AdapterSettings(2, 1.0, temperature, 0.1);
        return new MmaConfig(layers, dim, 24, 1024, 8, s, s, 128, 6, false);
    }

    /**
     * The ViT blocks whose [CLS] outputs become visual tokens, as indices into the hidden-state list
     * (1 = first block's output): evenly spaced, ending at the last block. 24 blocks, 6 tokens: 4, 8, ..., 24.
     */
    public int[] vitBlocks() {
        int[] b = new int[visualTokens];
        for (int j = 0; j < visualTokens; j++) b[j] = (int) Math.round((double) (j + 1) * vitLayers / visualTokens);
        return b;
    }
}
