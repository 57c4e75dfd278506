package io.vladapt.api;

import io.vladapt.data.ImagePipeline;

/** How an image becomes the ViT's input. */
public enum Preprocess {
    /** LaVIN's training recipe (and the demos'): square bicubic resize to the ViT's side, ImageNet statistics. */
    LAVIN,
    /** CLIP's own: shorter side to the ViT's side (bicubic), centre crop, CLIP statistics. */
    CLIP;

    /** The pipeline for a ViT whose input side is {@code size}. */
    public ImagePipeline pipeline(int size) {
        return this == LAVIN ? ImagePipeline.lavin(size) : ImagePipeline.clip(size);
    }

    /** "lavin" or "clip", as the command line writes them. */
    public static Preprocess parse(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "lavin" -> LAVIN;
            case "clip" -> CLIP;
            default -> throw new IllegalArgumentException("preprocessing must be lavin or clip, got '" + name + "'");
        };
    }
}
