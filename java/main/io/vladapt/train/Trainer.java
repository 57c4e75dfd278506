package io.vladapt.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The training loop: fixed data order per epoch, per-iteration learning rate, gradient accumulation,
 * optional clipping, AdamW, atomic checkpoints, and resumption that reaches the same weights as an
 * uninterrupted run.
 *
 * <p>Determinism: the order of epoch e is a permutation drawn from Random(seed + e), and libtorch's
 * generator is re-seeded from (seed, micro-step) before every micro-batch, so dropout masks depend
 * only on where the run is. A resumed run therefore needs nothing but the step counter, the trainable
 * tensors and the optimizer moments, all in the checkpoint. Same seed and config on the same CPU
 * (and thread count) give the same loss curve to the last bit.
 *
 * <p>Checkpoints are folders {@code checkpoint-STEP} written under a temporary name and renamed, so
 * a killed process leaves either the previous complete checkpoint or the new one, never half of one.
 *
 * <p>Started by {@code vladapt launch} as one of N processes, it trains data-parallel: see
 * {@link DataParallel} for how the global batch is split and why the result equals one process's.
 */
public final class Trainer {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One optimizer step's record (also a metrics.jsonl line). */
    public record Metric(long step, double epoch, double loss, double lr, double samplesPerSecond, double seconds) {}

    /**
     * Scores the model after a whole epoch (validation CIDEr, VQA accuracy, ...). Runs between the
     * epoch's last optimizer step and its checkpoint, so a resumed run never scores an epoch twice
     * and never misses one.
     */
    @FunctionalInterface
    public interface EpochEval {
        Map<String, Double> evaluate(int epoch) throws IOException;
    }

    /** One eval.jsonl line: the scores after {@code epoch} whole epochs. */
    public record EvalRecord(int epoch, long step, double seconds, Map<String, Double> scores) {}

    private final TrainTask task;
    private final TrainConfig cfg;
    private final DataParallel dp;
    private EpochEval epochEval;
    private java.util.function.Predicate<List<EvalRecord>> stopRule;
    private final List<EvalRecord> evals = new ArrayList<>();

    public Trainer(TrainTask task, TrainConfig cfg) {
        this.task = task;
        this.cfg = cfg;
        this.dp = DataParallel.current();
    }

    /** Scores after every epoch into eval.jsonl (and {@link #evals()}). */
    public Trainer withEpochEval(EpochEval e) {
        this.epochEval = e;
        return this;
    }

    /**
     * Ends the run early after an epoch whose scores (all so far, that epoch's last) satisfy the rule,
     * e.g. "VPGTrans has exceeded the baseline's best": the epoch's checkpoint is still written.
     */
    public Trainer withStopRule(java.util.function.Predicate<List<EvalRecord>> rule) {
        this.stopRule = rule;
        return this;
    }

    /** The epoch scores of the last {@link #run}, resumed ones included. */
    public List<EvalRecord> evals() {
        return List.copyOf(evals);
    }

    /** Micro-batches per optimizer step, all ranks together. */
    private int stepMicro() {
        return cfg.global(dp.world()).accumSteps();
    }

    public int microPerEpoch() {
        int n = task.size() / cfg.batchSize();
        if (n < stepMicro()) {
            throw new IllegalArgumentException(task.size() + " examples make " + n + " micro-batches of " + cfg.batchSize()
                    + ", fewer than one optimizer step of " + cfg.accumSteps() + (dp.world() > 1 ? " x " + dp.world() + " ranks" : ""));
        }
        return n - n % stepMicro();
    }

    public long totalSteps() {
        return (long) cfg.epochs() * microPerEpoch() / stepMicro();
    }

    /**
     * Trains to the end (or until {@code stopAfterSteps} optimizer steps have been done in total, for
     * tests that interrupt a run). With {@code resume}, continues from the newest checkpoint in outDir.
     */
    public List<Metric> run(boolean resume, long stopAfterSteps) throws IOException {
        if (dp.leads()) Files.createDirectories(cfg.outDir());
        int micro = microPerEpoch(), accum = stepMicro();
        long total = totalSteps();
        long step = 0;
        List<Metric> metrics = new ArrayList<>();
        evals.clear();
        TrainConfig.Optim o = cfg.optim();
        try (AdamW opt = new AdamW(task.trainable(), o.beta1(), o.beta2(), 1e-8, cfg.weightDecay()); DataParallel d = dp) {
            Path ckpt = resume && dp.leads() ? latestCheckpoint(cfg.outDir()) : null;
            if (ckpt != null) {
                task.load(ckpt);
                opt.load(ckpt.resolve("optimizer.safetensors"));
                JsonNode state = readState(ckpt);
                step = state.get("step").asLong();
                requireGlobalBatch(ckpt, state.path("effective_batch").asInt(globalBatch()));
                metrics.addAll(readMetrics(cfg.outDir().resolve("metrics.jsonl"), step));
                evals.addAll(readEvals(cfg.outDir().resolve("eval.jsonl"), step * accum / micro));
            } else if (resume && dp.leads() && !cfg.quiet()) {
                System.err.println("no checkpoint in " + cfg.outDir() + ": starting from scratch");
            }
            step = dp.start(step, task, cfg, opt);
            if (dp.leads()) {
                writeMetrics(metrics);
                writeEvals();
            }
            long t0 = System.nanoTime();
            double elapsedBefore = metrics.isEmpty() ? 0 : metrics.get(metrics.size() - 1).seconds();
            try (Progress bar = Progress.start("train", total, step, cfg.quiet() || !dp.leads())) {
                while (step < total && (stopAfterSteps < 0 || step < stopAfterSteps)) {
                    long firstMicro = step * accum;
                    dp.where("step " + (step + 1));
                    int epoch = (int) (firstMicro / micro);
                    int[] order = order(epoch);
                    double lossSum = 0;
                    long tStep = System.nanoTime();
                    for (int a = 0; a < cfg.accumSteps(); a++) {
                        long m = firstMicro + (long) dp.rank() * cfg.accumSteps() + a;   // this rank's share of the step
                        int at = (int) (m % micro) * cfg.batchSize();
                        int[] batch = java.util.Arrays.copyOfRange(order, at, at + cfg.batchSize());
                        torch.manual_seed(cfg.seed() * 1_000_003L + m);
                        try (PointerScope scope = new PointerScope()) {
                            double v = task.lossAndBackward(batch, accum);
                            if (!Double.isFinite(v)) throw new IllegalStateException("loss is " + v + " at micro-step " + m);
                            lossSum += v;
                        }
                    }
                    lossSum = dp.sumGradients(task, lossSum, step + 1);
                    double epochFrac = (double) firstMicro / micro;
                    double lr = cfg.global(dp.world()).lrAt(epochFrac);
                    if (cfg.clipNorm() > 0) opt.clip(cfg.clipNorm());
                    opt.step(lr);
                    opt.zeroGrad();
                    step++;
                    double secs = elapsedBefore + (System.nanoTime() - t0) / 1e9;
                    double sps = globalBatch() / ((System.nanoTime() - tStep) / 1e9);
                    Metric mt = new Metric(step, (double) (step * accum) / micro, lossSum / accum, lr, sps, secs);
                    metrics.add(mt);
                    if (dp.leads()) appendMetric(mt);
                    bar.step(1, String.format(" loss %.4f lr %.2e %.1f samples/s", mt.loss(), lr, sps));
                    boolean epochEnd = (step * accum) % micro == 0;
                    boolean periodic = cfg.checkpointEvery() > 0 && step % cfg.checkpointEvery() == 0;
                    if (epochEnd || periodic || step == total || step == stopAfterSteps) {
                        long s = step;
                        dp.leaderWrites(s, () -> {
                            if (epochEnd && epochEval != null) evaluate((int) (s * accum / micro), s, secs);
                            checkpoint(opt, s);
                        });
                    }
                    // a stop rule reads the leader's scores: single-process runs only (the demo), never data-parallel
                    if (epochEnd && stopRule != null && dp.world() == 1 && !evals.isEmpty() && stopRule.test(List.copyOf(evals))) {
                        if (!cfg.quiet()) System.err.println("stopping after epoch " + evals.get(evals.size() - 1).epoch() + ": stop rule met");
                        break;
                    }
                }
            }
            dp.finish();
        }
        if (dp.leads()) Plots.trainingCurves(metrics, cfg.outDir().resolve("training.png"));
        return metrics;
    }

    /** Examples per optimizer step over all ranks. */
    private int globalBatch() {
        return cfg.global(dp.world()).effectiveBatch();
    }

    /** A checkpoint's step counts global batches of one size: continuing it with another would shift the data and schedule. */
    private void requireGlobalBatch(Path ckpt, int saved) {
        if (saved == globalBatch()) return;
        int perAccum = cfg.batchSize() * dp.world();
        throw new IllegalArgumentException(ckpt + " was written with a global batch of " + saved + " examples per step; this run's is "
                + globalBatch() + " (micro-batch " + cfg.batchSize() + " x accumulation " + cfg.accumSteps() + " x " + dp.world()
                + " process(es))" + (saved % perAccum == 0 ? ": resume with accumulation " + saved / perAccum : ""));
    }

    /** The order of epoch e: a permutation fixed by (seed, e). */
    int[] order(int epoch) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < task.size(); i++) idx.add(i);
        java.util.Collections.shuffle(idx, new Random(cfg.seed() + epoch));
        return idx.stream().mapToInt(Integer::intValue).toArray();
    }

    private void checkpoint(AdamW opt, long step) throws IOException {
        Path dir = cfg.outDir().resolve("checkpoint-" + step);
        Path tmp = cfg.outDir().resolve(".checkpoint-" + step + ".tmp");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        task.save(tmp);
        opt.save(tmp.resolve("optimizer.safetensors"));
        ObjectNode state = JSON.createObjectNode();
        state.put("step", step);
        state.put("epoch", (double) (step * stepMicro()) / microPerEpoch());
        state.put("seed", cfg.seed());
        state.put("effective_batch", globalBatch());
        state.put("world_size", dp.world());
        AtomicFiles.writeString(tmp.resolve("trainer_state.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state));
        deleteTree(dir);
        Files.move(tmp, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        prune();
    }

    private void prune() throws IOException {
        List<Path> all = checkpoints(cfg.outDir());
        for (int i = 0; i < all.size() - cfg.keepCheckpoints(); i++) deleteTree(all.get(i));
    }

    /** Complete checkpoints (renamed into place), oldest first. */
    public static List<Path> checkpoints(Path outDir) throws IOException {
        if (!Files.isDirectory(outDir)) return List.of();
        try (Stream<Path> s = Files.list(outDir)) {
            return s.filter(p -> p.getFileName().toString().matches("checkpoint-\\d+") && Files.isDirectory(p))
                    .sorted(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring("checkpoint-".length()))))
                    .toList();
        }
    }

    public static Path latestCheckpoint(Path outDir) throws IOException {
        List<Path> all = checkpoints(outDir);
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    static JsonNode readState(Path ckpt) {
        try {
            return JSON.readTree(Files.readString(ckpt.resolve("trainer_state.json")));
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + ckpt.resolve("trainer_state.json"), e);
        }
    }

    private void evaluate(int epoch, long step, double secs) throws IOException {
        Map<String, Double> scores;
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            scores = new LinkedHashMap<>(epochEval.evaluate(epoch));
        }
        EvalRecord r = new EvalRecord(epoch, step, secs, scores);
        evals.add(r);
        Files.writeString(cfg.outDir().resolve("eval.jsonl"), JSON.writeValueAsString(r) + "\n",
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        if (!cfg.quiet()) System.err.println("epoch " + epoch + ": " + scores);
    }

    private void writeEvals() throws IOException {
        StringBuilder s = new StringBuilder();
        for (EvalRecord r : evals) s.append(JSON.writeValueAsString(r)).append('\n');
        AtomicFiles.writeString(cfg.outDir().resolve("eval.jsonl"), s.toString());
    }

    /** The eval.jsonl lines of epochs up to {@code upToEpoch} (a resumed run drops later ones). */
    public static List<EvalRecord> readEvals(Path file, long upToEpoch) throws IOException {
        List<EvalRecord> out = new ArrayList<>();
        if (!Files.isRegularFile(file)) return out;
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank()) continue;
            try {
                EvalRecord r = JSON.readValue(line, EvalRecord.class);
                if (r.epoch() <= upToEpoch) out.add(r);
            } catch (IOException e) {
                // a line cut by a kill
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- metrics.jsonl
    private void appendMetric(Metric m) throws IOException {
        Files.writeString(cfg.outDir().resolve("metrics.jsonl"), JSON.writeValueAsString(m) + "\n",
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    }

    /** Rewrites metrics.jsonl with exactly these lines (on resume: the ones up to the checkpoint). */
    private void writeMetrics(List<Metric> metrics) throws IOException {
        StringBuilder s = new StringBuilder();
        for (Metric m : metrics) s.append(JSON.writeValueAsString(m)).append('\n');
        AtomicFiles.writeString(cfg.outDir().resolve("metrics.jsonl"), s.toString());
    }

    static List<Metric> readMetrics(Path file, long upToStep) throws IOException {
        List<Metric> out = new ArrayList<>();
        if (!Files.isRegularFile(file)) return out;
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank()) continue;
            Metric m;
            try {
                m = JSON.readValue(line, Metric.class);
            } catch (IOException e) {
                continue;  // a line cut by a kill
            }
            if (m.step() <= upToStep) out.add(m);
        }
        return out;
    }

    /** Removes a folder of outputs (a previous run's checkpoints and metrics) and everything in it. */
    public static void deleteOutputs(Path p) throws IOException {
        deleteTree(p);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
