package io.vladapt.mma;

import io.vladapt.nn.Params;
import io.vladapt.train.TrainTask;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/** Mixture-of-Modality Training: mixed text-only and image micro-batches, loss on answers and EOS. */
public final class MmaTask implements TrainTask {
    private final MmaModel model;
    private final List<MmaExample> examples;
    private final MmaCheckpoint.Base base;
    private boolean checkpointing;

    public MmaTask(MmaModel model, List<MmaExample> examples, MmaCheckpoint.Base base) {
        this.model = model;
        this.examples = examples;
        this.base = base;
    }

    @Override
    public int size() {
        return examples.size();
    }

    @Override
    public Tensor loss(int[] idx) {
        return model.loss(batch(idx), true);
    }

    /** With activation checkpointing the frozen blocks are recomputed in backward (see MmaModel). */
    @Override
    public double lossAndBackward(int[] idx, double scale) {
        if (!checkpointing) return TrainTask.super.lossAndBackward(idx, scale);
        return model.lossAndBackwardCheckpointed(batch(idx), scale, true);
    }

    /** Recompute the frozen ViT and LLM blocks in backward instead of keeping their activations. */
    public MmaTask checkpointing(boolean on) {
        this.checkpointing = on;
        return this;
    }

    MmaBatch batch(int[] idx) {
        List<MmaModel.Encoded> enc = new ArrayList<>();
        List<Tensor> images = new ArrayList<>();
        for (int i : idx) {
            enc.add(examples.get(i).encoded());
            images.add(examples.get(i).image());
        }
        return MmaBatch.of(enc, images, model.config().vitRoutingCompat(), Math.max(0, model.tokenizer().padId()));
    }

    @Override
    public Params trainable() {
        return model.adapters().params();
    }

    @Override
    public void save(Path dir) throws IOException {
        MmaCheckpoint.save(dir, model.adapters(), base);
    }

    @Override
    public void load(Path dir) {
        MmaCheckpoint.load(dir, model.adapters());
    }
}
