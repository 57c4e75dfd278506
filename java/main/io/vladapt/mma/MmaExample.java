package io.vladapt.mma;

import org.bytedeco.pytorch.Tensor;

/** A tokenized training example and its preprocessed image (3, S, S), or null for text-only. */
public record MmaExample(MmaModel.Encoded encoded, Tensor image) {}
