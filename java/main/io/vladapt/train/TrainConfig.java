package io.vladapt.train;

import java.nio.file.Path;

/**
 * Training settings (LaVIN's defaults where it has them).
 *
 * @param epochs           passes over the data (LaVIN ScienceQA: 20)
 * @param batchSize        micro-batch size
 * @param accumSteps       micro-batches per optimizer step (effective batch = batchSize x accumSteps)
 * @param baseLr           LaVIN's blr: lr = baseLr x effective batch / 256 (9e-3 -> 1.125e-3 at 32)
 * @param warmupEpochs     linear warm-up, then half-cosine to 0, set per iteration (LaVIN: 2)
 * @param weightDecay      AdamW decay on matrices; biases and 1-D tensors get none (LaVIN: 0.02)
 * @param clipNorm         global gradient-norm clip, 0 = off (LaVIN: off)
 * @param seed             data order, dropout and initialisation
 * @param checkpointEvery  optimizer steps between checkpoints (0 = at epoch ends only)
 * @param keepCheckpoints  how many checkpoints to keep
 * @param outDir           checkpoints, metrics.jsonl and plots go here
 * @param quiet            no progress bar
 */
public record TrainConfig(int epochs, int batchSize, int accumSteps, double baseLr, double warmupEpochs, double weightDecay,
                          double clipNorm, long seed, int checkpointEvery, int keepCheckpoints, Path outDir, boolean quiet) {
    public TrainConfig {
        if (epochs < 1 || batchSize < 1 || accumSteps < 1) throw new IllegalArgumentException("epochs, batch size and accumulation must be >= 1");
        if (!(baseLr > 0)) throw new IllegalArgumentException("base lr must be positive");
        if (warmupEpochs < 0 || warmupEpochs > epochs) throw new IllegalArgumentException("warm-up must be within the epochs");
        if (keepCheckpoints < 1) throw new IllegalArgumentException("keep at least one checkpoint");
    }

    public int effectiveBatch() {
        return batchSize * accumSteps;
    }

    /** Peak learning rate. */
    public double lr() {
        return baseLr * effectiveBatch() / 256.0;
    }

    /**
     * LaVIN's schedule at a fractional epoch: linear warm-up to the peak, then half a cosine to 0.
     */
    public double lrAt(double epoch) {
        if (epoch < warmupEpochs) return lr() * epoch / warmupEpochs;
        double span = epochs - warmupEpochs;
        return span <= 0 ? lr() : lr() * 0.5 * (1 + Math.cos(Math.PI * (epoch - warmupEpochs) / span));
    }

    /** The same settings writing elsewhere. */
    public TrainConfig withOutDir(Path dir) {
        return new TrainConfig(epochs, batchSize, accumSteps, baseLr, warmupEpochs, weightDecay, clipNorm, seed, checkpointEvery,
                keepCheckpoints, dir, quiet);
    }
}
