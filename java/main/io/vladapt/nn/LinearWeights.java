package io.vladapt.nn;

import org.bytedeco.pytorch.Tensor;

/** The parameters of a linear map y = x W^T + b: weight (out, in), bias (out) or null. */
public record LinearWeights(Tensor weight, Tensor bias) {}
