package io.vladapt.mma;

import org.bytedeco.pytorch.Tensor;

/**
 * Tensors of a RepAdapter: down-projection A and one grouped up-projection U (stored (d, r/groups)).
 *
 * @param aW (r, d)   @param aB (r)
 * @param uW (d, r/g) @param uB (d)
 */
public record RepAdapterWeights(Tensor aW, Tensor aB, Tensor uW, Tensor uB) {}
