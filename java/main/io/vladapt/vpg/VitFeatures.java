package io.vladapt.vpg;

import io.vladapt.data.ImagePipeline;
import io.vladapt.nn.ClipVisionModel;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The frozen ViT runs once per image: what a VPG reads is computed for the whole dataset up front and
 * indexed by image row in every epoch (the ViT never trains in VPGTrans).
 */
public final class VitFeatures {
    private VitFeatures() {}

    /** (N, ...) features of every image, in order; the caller owns the result. */
    public static Tensor compute(ClipVisionModel vit, ImagePipeline pipe, List<Path> images, Vpg vpg, int batch) {
        if (images.isEmpty()) throw new IllegalArgumentException("no images to encode");
        TensorVector parts = new TensorVector();
        try (PointerScope outer = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (int at = 0; at < images.size(); at += batch) {
                try (PointerScope s = new PointerScope()) {
                    Tensor px = pipe.load(images.subList(at, Math.min(images.size(), at + batch)));    // (b, 3, S, S)
                    Tensor f = vpg.features(vit.forward(px, null, true)).contiguous();                 // (b, ...)
                    outer.attach(f);
                    s.detach(f);
                    parts.push_back(f);
                }
            }
            Tensor all = torch.cat(parts, 0);
            outer.detach(all.retainReference());
            return all;
        }
    }
}
