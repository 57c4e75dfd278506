package io.vladapt.mma;

import org.bytedeco.pytorch.Tensor;

/**
 * Tensors of one MM-Adapter (LaVIN's RepAdapter_Router), named as in the paper and code:
 * A (shared down-projection, conv_A), B and D (the two up-projection experts, conv_B/conv_D, grouped
 * 1x1 convolutions stored as (d, r/groups) without the kernel dimension), R (the router, expert_weights).
 *
 * @param aW (r, d)   @param aB (r)
 * @param bW (d, r/g) @param bB (d)
 * @param dW (d, r/g) @param dB (d)
 * @param rW (2, d)   @param rB (2)
 */
public record MmAdapterWeights(Tensor aW, Tensor aB, Tensor bW, Tensor bB, Tensor dW, Tensor dB,
                               Tensor rW, Tensor rB) {}
