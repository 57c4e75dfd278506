package io.vladapt.api;

import io.vladapt.mma.AdapterSettings;
import io.vladapt.mma.MmaConfig;
import io.vladapt.nn.ClipVisionConfig;
import io.vladapt.nn.LlamaConfig;

/**
 * LaVIN's adapter shapes: what a new training run builds, and what a LaVIN {@code .pth} adapter (which
 * has no config file) is read as. Defaults are LaVIN-7B's.
 *
 * @param rank              adapter bottleneck
 * @param groups            up-projection groups
 * @param routerTemperature LaVIN: 10 for 7B, 5 for 13B
 * @param dropout           adapter dropout (training)
 * @param neckWidth         visual neck hidden width
 * @param visualTokens      ViT blocks whose [CLS] states become visual tokens
 * @param vitRoutingCompat  route ViT adapters by the batch's first image, as LaVIN's code does
 */
public record AdapterShape(int rank, int groups, double routerTemperature, double dropout, int neckWidth, int visualTokens,
                           boolean vitRoutingCompat) {
    public static final AdapterShape LAVIN = new AdapterShape(8, 2, 10, 0.1, 128, 6, false);

    /** The MMA config for these backbones. */
    public MmaConfig config(LlamaConfig llm, ClipVisionConfig vit) {
        AdapterSettings s = new AdapterSettings(groups, 1.0, routerTemperature, dropout);
        return new MmaConfig(llm.numLayers(), llm.hiddenSize(), vit.numLayers(), vit.hiddenSize(), rank, s, s, neckWidth, visualTokens,
                vitRoutingCompat);
    }
}
