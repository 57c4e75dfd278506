package io.vladapt.vpg;

import io.vladapt.train.TrainConfig;
import java.nio.file.Path;

/**
 * The VPGTrans training recipes as trainer settings. The exploration runs' recipe (BLIP-2's): AdamW
 * beta2 0.999, weight decay 0.05 (none on biases and 1-D tensors), linear warm-up then cosine down to
 * a minimum lr. Stage 1 (projector warm-up): one epoch at 5x the lr, constant, no warm-up. Stage 2
 * and training from scratch (TFS): the same recipe, so that their curves compare.
 *
 * @param lr           the peak lr of stage 2 and TFS (absolute, not scaled by the batch)
 * @param minLr        where the cosine ends
 * @param warmupEpochs linear warm-up (may be fractional)
 * @param epochs       the TFS budget; VPGTrans' stage 1 counts as one of them
 * @param batch        micro-batch size
 * @param accum        micro-batches per optimizer step
 * @param warmupFactor stage 1's lr multiple (paper: 5; 10 gives no extra gain)
 */
public record Recipe(double lr, double minLr, double warmupEpochs, int epochs, int batch, int accum, double warmupFactor, double weightDecay,
                     long seed) {
    public Recipe {
        if (!(lr > 0) || epochs < 2 || batch < 1 || accum < 1 || !(warmupFactor > 0)) {
            throw new IllegalArgumentException("recipe: lr > 0, epochs >= 2 (stage 1 + stage 2), batch >= 1, accum >= 1, warm-up factor > 0");
        }
    }

    /** The same recipe with another budget (the source VPG's, a shorter experiment's). */
    public Recipe withEpochs(int e) {
        return new Recipe(lr, minLr, warmupEpochs, e, batch, accum, warmupFactor, weightDecay, seed);
    }

    /** The same recipe with another seed (data order, dropout, fresh VPG and projector). */
    public Recipe withSeed(long s) {
        return new Recipe(lr, minLr, warmupEpochs, epochs, batch, accum, warmupFactor, weightDecay, s);
    }

    /** lr for TrainConfig, whose baseLr is scaled by effective batch / 256. */
    private double base(double absolute) {
        return absolute * 256.0 / (batch * accum);
    }

    private TrainConfig.Optim optim(TrainConfig.Schedule s) {
        return new TrainConfig.Optim(0.9, 0.999, s, s == TrainConfig.Schedule.CONSTANT ? 0 : minLr);
    }

    /** Stage 1c: projector only, one epoch, warmupFactor x lr, constant. */
    public TrainConfig stage1(Path out, boolean quiet) {
        return new TrainConfig(1, batch, accum, base(lr * warmupFactor), 0, weightDecay, 0, seed, 0, 1, out, quiet,
                optim(TrainConfig.Schedule.CONSTANT));
    }

    /** Stage 2: VPG + projector for the remaining epochs of the budget. */
    public TrainConfig stage2(Path out, boolean quiet) {
        return new TrainConfig(epochs - 1, batch, accum, base(lr), Math.min(warmupEpochs, epochs - 1), weightDecay, 0, seed, 0, 1, out, quiet,
                optim(TrainConfig.Schedule.WARMUP_COSINE));
    }

    /** Training from scratch: the whole budget with warm-up and cosine. */
    public TrainConfig tfs(Path out, boolean quiet) {
        return new TrainConfig(epochs, batch, accum, base(lr), warmupEpochs, weightDecay, 0, seed, 0, 1, out, quiet,
                optim(TrainConfig.Schedule.WARMUP_COSINE));
    }
}
