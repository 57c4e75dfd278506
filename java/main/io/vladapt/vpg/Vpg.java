package io.vladapt.vpg;

import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.Params;
import java.io.IOException;
import java.nio.file.Path;
import org.bytedeco.pytorch.Tensor;

/**
 * A visual prompt generator: reads a frozen ViT's states and emits a fixed number of query vectors,
 * which a linear projector ({@link Projector}) maps into an LLM's input-embedding space. Everything of
 * the VPG trains in VPGTrans stage 2 and in training from scratch; nothing of it in stage 1.
 */
public interface Vpg extends AutoCloseable {
    /** "qformer" or "neck" (the value of vpg_config.json's "kind"). */
    String kind();

    /** Soft prompts per image. */
    int numQueries();

    /** Width of each query (the projector's input width). */
    int width();

    /** What this VPG reads from the ViT, per image: cached once, since the ViT is frozen. */
    Tensor features(ClipVisionModel.Output vit);

    /** (B, ...) features -> (B, Q, width) queries; dropout only when {@code train}. */
    Tensor forward(Tensor features, boolean train);

    /** Every tensor of the VPG, by name (all trainable). */
    Params params();

    /** Writes vpg.safetensors and vpg_config.json into the folder. */
    void save(Path dir) throws IOException;

    @Override
    void close();
}
