package io.vladapt.nn;

import org.bytedeco.pytorch.Tensor;

/**
 * The seam between a block and its frozen linear maps (q/k/v/o, gate/up/down, fc1/fc2): each is either
 * a dense {@link LinearWeights} read from {@link Params}, or a layer the model owns outside Params (a
 * quantised one, {@code io.vladapt.quant.QuantizedLinear}). (..., in) -> (..., out) in x's dtype.
 */
public interface Projection extends AutoCloseable {
    Tensor forward(Tensor x);

    /** Frees what the projection owns (nothing for a dense view of Params). */
    @Override
    default void close() {}
}
