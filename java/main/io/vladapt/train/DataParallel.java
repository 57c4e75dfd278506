package io.vladapt.train;

import io.vladapt.dist.GradientBuckets;
import io.vladapt.dist.ProcessGroupContext;
import io.vladapt.nn.Tensors;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * What the {@link Trainer} does differently when {@code vladapt launch} started it as one of N ranks;
 * with one process every method is a no-op, so every TrainTask trains data-parallel for free.
 *
 * <p><b>One global batch, any number of processes.</b> With micro-batch B and accumulation A per rank,
 * an optimizer step over N ranks consumes A·N micro-batches: the global micro-batches {@code
 * step·A·N + j}, j = 0..A·N-1, cut from the epoch's permutation exactly as a single process with
 * accumulation A·N cuts them, rank r taking j = r·A .. r·A+A-1 (each rank a disjoint shard; every
 * rank draws the same permutation from the same seed). Each micro-batch's mean loss is divided by A·N
 * before its backward and the gradients are summed over the ranks, so the step's gradient is the
 * mean over the global batch; libtorch is re-seeded from the global micro-batch index, so dropout
 * masks are those of the single process too. Hence N processes with (B, A) reach the weights of one
 * process with (B, A·N) up to float rounding of the sums' order.
 *
 * <p>Rank 0 alone writes checkpoints, metrics, evaluations and plots; the others wait for each
 * checkpoint (as long as rank 0's heartbeat moves), so nobody runs ahead of the last good one. A run
 * starts from rank 0's state (weights, optimizer moments, step), broadcast to all, so only rank 0
 * needs the output folder.
 */
public final class DataParallel implements AutoCloseable {
    private final ProcessGroupContext ctx;
    private String run;
    private GradientBuckets buckets;

    private DataParallel(ProcessGroupContext ctx) {
        this.ctx = ctx;
    }

    /** This process's share: the single-process no-op unless WORLD_SIZE > 1. */
    public static DataParallel current() {
        return new DataParallel(ProcessGroupContext.current());
    }

    /** True in the process that writes shared outputs (rank 0, or the only process). */
    public static boolean leader() {
        ProcessGroupContext c = ProcessGroupContext.current();
        return c == null || c.rank() == 0;
    }

    public int rank() {
        return ctx == null ? 0 : ctx.rank();
    }

    public int world() {
        return ctx == null ? 1 : ctx.worldSize();
    }

    public boolean leads() {
        return rank() == 0;
    }

    /**
     * Meets the other ranks, checks that they train the same thing, and gives everyone rank 0's
     * state; returns the step to start from.
     */
    long start(long step, TrainTask task, TrainConfig cfg, AdamW opt) {
        if (ctx == null) return step;
        run = ctx.nextRun();
        ctx.where("starting a run");
        ctx.barrier(run + "/start", "waiting for every rank to start training");
        checkSameSetup(task, cfg);
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor counters = Tensors.longs(step, opt.steps());
            List<Tensor> state = new ArrayList<>(task.trainable().asMap().values());
            state.addAll(opt.moments());
            long t0 = System.nanoTime();
            List<Work> works = new ArrayList<>();
            works.add(ctx.broadcastAsync(counters, 0));
            for (Tensor t : state) works.add(ctx.broadcastAsync(t, 0));
            for (Work w : works) ctx.await(w, "receiving rank 0's weights, optimizer state and step", t0);
            long[] c = Tensors.toLongs(counters);
            opt.restoreSteps(c[1]);
            return c[0];
        }
    }

    /** Every rank fills its row of a table; a row that differs from rank 0's is named. */
    private void checkSameSetup(TrainTask task, TrainConfig cfg) {
        Map<String, Long> mine = new LinkedHashMap<>();
        mine.put("examples", (long) task.size());
        mine.put("trainable tensors", (long) task.trainable().asMap().size());
        mine.put("trainable parameters", task.trainable().count());
        mine.put("micro-batch", (long) cfg.batchSize());
        mine.put("accumulation", (long) cfg.accumSteps());
        mine.put("epochs", (long) cfg.epochs());
        mine.put("seed", cfg.seed());
        mine.put("base lr bits", Double.doubleToLongBits(cfg.baseLr()));
        mine.put("trainable names", (long) task.trainable().asMap().keySet().hashCode());
        int k = mine.size();
        long[] table = new long[world() * k];
        int i = 0;
        for (long v : mine.values()) table[rank() * k + i++] = v;
        try (PointerScope scope = new PointerScope()) {
            Tensor t = Tensors.longs(table);
            ctx.allreduce(t, "comparing the ranks' training setups");
            table = Tensors.toLongs(t);
        }
        List<String> names = new ArrayList<>(mine.keySet());
        for (int r = 1; r < world(); r++) {
            for (int j = 0; j < k; j++) {
                if (table[r * k + j] != table[j]) {
                    throw new IllegalStateException("rank " + rank() + ": rank " + r + " trains something else than rank 0: " + names.get(j)
                            + " " + table[r * k + j] + " vs " + table[j] + " (every rank must get the same command and data)");
                }
            }
        }
    }

    /** Sums the gradients (and the loss sums) over the ranks; returns the global loss sum. */
    double sumGradients(TrainTask task, double lossSum, long step) {
        if (ctx == null) return lossSum;
        if (buckets == null) buckets = new GradientBuckets(task.trainable().asMap(), GradientBuckets.DEFAULT_BYTES);
        return buckets.sum(ctx, lossSum, "the gradient all-reduce of step " + step);
    }

    /** What this rank is doing, for the message a peer prints if this rank gets stuck. */
    void where(String w) {
        if (ctx != null) ctx.where(w);
    }

    /** A file-writing action of rank 0's. */
    @FunctionalInterface
    interface Writes {
        void run() throws IOException;
    }

    /**
     * Rank 0 runs {@code writes} (scoring, checkpoint) and tells the others how it went; they wait for
     * that, so no rank starts the next step before the checkpoint exists, and a failed write stops
     * everyone with rank 0's reason.
     */
    void leaderWrites(long step, Writes writes) throws IOException {
        if (ctx == null) {
            writes.run();
            return;
        }
        String key = run + "/saved/" + step;
        if (leads()) {
            ctx.where("writing checkpoint " + step);
            try {
                writes.run();
            } catch (IOException | RuntimeException e) {
                ctx.publish(key, "failed: " + e.getMessage());
                throw e;
            }
            ctx.publish(key, "ok");
        } else {
            ctx.where("waiting for checkpoint " + step);
            String v = ctx.awaitValue(key, 0, "waiting for rank 0 to write checkpoint " + step);
            if (!v.equals("ok")) throw new IllegalStateException("rank " + rank() + ": rank 0 could not write checkpoint " + step + ": " + v);
        }
    }

    /** After the last step: no rank leaves while another still needs the store (rank 0 may host it). */
    void finish() {
        if (ctx == null) return;
        ctx.where("finished");
        ctx.closingBarrier(run + "/end", "waiting for every rank to finish");
    }

    @Override
    public void close() {
        if (buckets != null) buckets.close();
        buckets = null;
    }
}
