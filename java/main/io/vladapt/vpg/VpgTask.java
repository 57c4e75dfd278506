package io.vladapt.vpg;

import io.vladapt.nn.Params;
import io.vladapt.nn.Tensors;
import io.vladapt.train.TrainTask;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Training a VL model's VPG and/or projector on cached ViT features. {@link Part#PROJECTOR} is
 * VPGTrans' stage 1c (the VPG stays frozen; its dropout stays on as in the official runner, which
 * undoes Qformer.eval()); {@link Part#VPG_AND_PROJECTOR} is stage 2 and training from scratch.
 * Checkpoints hold both folders (vpg/, projector/), so any stage can be resumed or continued.
 */
public final class VpgTask implements TrainTask {
    public enum Part { PROJECTOR, VPG_AND_PROJECTOR }

    private final VlModel model;
    private final Tensor features;
    private final List<VlExample> examples;
    private final Params trainable = new Params();

    /** @param features (N_images, ...) the VPG's input per image, indexed by {@link VlExample#image()} */
    public VpgTask(VlModel model, Tensor features, List<VlExample> examples, Part part) {
        if (examples.isEmpty()) throw new IllegalArgumentException("no training examples");
        for (VlExample e : examples) {
            if (e.image() < 0 || e.image() >= features.size(0)) {
                throw new IllegalArgumentException("example image " + e.image() + " outside the " + features.size(0) + " cached images");
            }
        }
        this.model = model;
        this.features = features;
        this.examples = examples;
        model.vpg().params().asMap().forEach((n, p) -> p.set_requires_grad(part == Part.VPG_AND_PROJECTOR));
        if (part == Part.VPG_AND_PROJECTOR) model.vpg().params().asMap().forEach((n, p) -> trainable.put("vpg." + n, p));
        model.projector().params().asMap().forEach((n, p) -> {
            p.set_requires_grad(true);
            trainable.put(n, p);
        });
    }

    @Override
    public int size() {
        return examples.size();
    }

    @Override
    public Tensor loss(int[] idx) {
        List<VlExample> batch = new ArrayList<>();
        long[] images = new long[idx.length];
        for (int i = 0; i < idx.length; i++) {
            batch.add(examples.get(idx[i]));
            images[i] = batch.get(i).image();
        }
        return model.loss(features.index_select(0, Tensors.longs(images)), batch, true);
    }

    @Override
    public Params trainable() {
        return trainable;
    }

    @Override
    public void save(Path dir) throws IOException {
        model.vpg().save(dir.resolve("vpg"));
        model.projector().save(dir.resolve("projector"));
    }

    @Override
    public void load(Path dir) {
        try {
            try (Vpg v = Vpgs.load(dir.resolve("vpg"))) {
                copy(v.params(), model.vpg().params(), dir.resolve("vpg"));
            }
            try (Projector p = Projector.load(dir.resolve("projector"))) {
                copy(p.params(), model.projector().params(), dir.resolve("projector"));
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("loading " + dir, e);
        }
    }

    private static void copy(Params from, Params to, Path where) {
        try (org.bytedeco.javacpp.PointerScope s = new org.bytedeco.javacpp.PointerScope();
             org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
            to.asMap().forEach((n, t) -> {
                if (!from.has(n)) throw new IllegalArgumentException(where + ": no tensor '" + n + "'");
                t.copy_(from.get(n));
            });
        }
    }
}
