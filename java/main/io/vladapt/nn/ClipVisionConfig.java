package io.vladapt.nn;

/** Shapes of a CLIP vision tower (ViT-B/L, patch 14/16/32). */
public record ClipVisionConfig(int hiddenSize, int intermediateSize, int numLayers, int numHeads, int imageSize,
                               int patchSize, int numChannels, String hiddenAct, double layerNormEps) {
    public ClipVisionConfig {
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("CLIP config: hidden_size " + hiddenSize + " is not a multiple of heads " + numHeads);
        }
        if (imageSize % patchSize != 0) {
            throw new IllegalArgumentException("CLIP config: image_size " + imageSize + " is not a multiple of patch_size " + patchSize);
        }
        if (!hiddenAct.equals("quick_gelu") && !hiddenAct.equals("gelu")) {
            throw new IllegalArgumentException("CLIP config: hidden_act '" + hiddenAct + "' (supported: quick_gelu, gelu)");
        }
    }

    /** Patch tokens plus the class token. */
    public int numPositions() {
        int side = imageSize / patchSize;
        return side * side + 1;
    }

    /** OpenAI CLIP ViT-L/14 at 224 (LaVIN's image encoder). */
    public static ClipVisionConfig vitL14() {
        return new ClipVisionConfig(1024, 4096, 24, 16, 224, 14, 3, "quick_gelu", 1e-5);
    }
}
