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
 * @param optim            AdamW betas and the schedule's shape (LaVIN's unless said otherwise)
 */
public record TrainConfig(int epochs, int batchSize, int accumSteps, double baseLr, double warmupEpochs, double weightDecay,
                          double clipNorm, long seed, int checkpointEvery, int keepCheckpoints, Path outDir, boolean quiet,
                          Optim optim) {
    /** How the learning rate moves between its ends. */
    public enum Schedule {
        /** linear warm-up to the peak, then half a cosine down to minLr (LaVIN: minLr 0; BLIP-2/VPGTrans: 1e-5) */
        WARMUP_COSINE,
        /** the peak all along, no warm-up (VPGTrans' projector warm-up: init_lr = min_lr) */
        CONSTANT
    }

    /**
     * @param beta1    AdamW beta1 (0.9 everywhere here)
     * @param beta2    AdamW beta2 (LaVIN 0.95, BLIP-2/VPGTrans 0.999)
     * @param schedule the schedule's shape
     * @param minLr    where the cosine ends (absolute, not scaled by the batch)
     */
    public record Optim(double beta1, double beta2, Schedule schedule, double minLr) {
        public static final Optim LAVIN = new Optim(0.9, 0.95, Schedule.WARMUP_COSINE, 0);

        public Optim {
            if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("AdamW betas must be in [0, 1): " + beta1 + ", " + beta2);
            if (!(minLr >= 0)) throw new IllegalArgumentException("min lr must be >= 0: " + minLr);
        }
    }

    public TrainConfig {
        if (epochs < 1 || batchSize < 1 || accumSteps < 1) throw new IllegalArgumentException("epochs, batch size and accumulation must be >= 1");
        if (!(baseLr > 0)) throw new IllegalArgumentException("base lr must be positive");
        if (warmupEpochs < 0 || warmupEpochs > epochs) throw new IllegalArgumentException("warm-up must be within the epochs");
        if (keepCheckpoints < 1) throw new IllegalArgumentException("keep at least one checkpoint");
        if (optim == null) optim = Optim.LAVIN;
    }

    /** LaVIN's optimizer settings. */
    public TrainConfig(int epochs, int batchSize, int accumSteps, double baseLr, double warmupEpochs, double weightDecay,
                       double clipNorm, long seed, int checkpointEvery, int keepCheckpoints, Path outDir, boolean quiet) {
        this(epochs, batchSize, accumSteps, baseLr, warmupEpochs, weightDecay, clipNorm, seed, checkpointEvery, keepCheckpoints,
                outDir, quiet, Optim.LAVIN);
    }

    public int effectiveBatch() {
        return batchSize * accumSteps;
    }

    /** Peak learning rate. */
    public double lr() {
        return baseLr * effectiveBatch() / 256.0;
    }

    /**
     * The learning rate at a fractional epoch. WARMUP_COSINE (LaVIN's with minLr 0): linear warm-up to
     * the peak, then half a cosine to minLr. CONSTANT: the peak.
     */
    public double lrAt(double epoch) {
        if (optim.schedule() == Schedule.CONSTANT) return lr();
        if (epoch < warmupEpochs) return lr() * epoch / warmupEpochs;
        double span = epochs - warmupEpochs;
        double min = Math.min(optim.minLr(), lr());
        return span <= 0 ? lr() : min + (lr() - min) * 0.5 * (1 + Math.cos(Math.PI * (epoch - warmupEpochs) / span));
    }

    /**
     * The whole data-parallel run seen as one process: {@code world} times the accumulation. Its
     * effective batch is the global one, which the learning rate scales with (as LaVIN's
     * eff_batch_size = batch x accum x world size).
     */
    public TrainConfig global(int world) {
        return world == 1 ? this : new TrainConfig(epochs, batchSize, accumSteps * world, baseLr, warmupEpochs, weightDecay, clipNorm, seed,
                checkpointEvery, keepCheckpoints, outDir, quiet, optim);
    }

    /** The same settings writing elsewhere. */
    public TrainConfig withOutDir(Path dir) {
        return new TrainConfig(epochs, batchSize, accumSteps, baseLr, warmupEpochs, weightDecay, clipNorm, seed, checkpointEvery,
                keepCheckpoints, dir, quiet, optim);
    }

    /** The same settings with other optimizer settings. */
    public TrainConfig withOptim(Optim o) {
        return new TrainConfig(epochs, batchSize, accumSteps, baseLr, warmupEpochs, weightDecay, clipNorm, seed, checkpointEvery,
                keepCheckpoints, outDir, quiet, o);
    }
}
