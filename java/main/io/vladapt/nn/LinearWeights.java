package io.vladapt.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** The parameters of a linear map y = x W^T + b: weight (out, in), bias (out) or null. */
public record LinearWeights(Tensor weight, Tensor bias) implements Projection {
    @Override
    public Tensor forward(Tensor x) {
        return bias == null ? torch.linear(x, weight) : torch.linear(x, weight, new TensorOptional(bias));
    }
}
