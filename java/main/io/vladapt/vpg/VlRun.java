package io.vladapt.vpg;

import io.vladapt.train.TrainConfig;
import io.vladapt.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Tensor;

/**
 * One VL training run (a VPGTrans stage or training from scratch): load the VPG and projector (or
 * make fresh ones), train the given part with per-epoch CIDEr-D / VQA scores, write the result as
 * {@code out/vpg} and {@code out/projector} with the final predictions in {@code out/eval.json}.
 * Checkpoints and eval.jsonl go to the TrainConfig's folder, so {@code resume} continues a killed run.
 */
public final class VlRun {
    /** Per-epoch scores (index 0 = epoch 1), training seconds at each epoch's end, samples seen. */
    public record Result(List<Double> cider, List<Double> vqa, List<Double> seconds, long samples) {
        public Result {
            cider = List.copyOf(cider);
            vqa = List.copyOf(vqa);
            seconds = List.copyOf(seconds);
        }

        /** "cider" or "vqa". */
        public List<Double> metric(String name) {
            return switch (name) {
                case "cider" -> cider;
                case "vqa" -> vqa;
                default -> throw new IllegalArgumentException("metric must be cider or vqa, got '" + name + "'");
            };
        }

        /** This curve, then {@code next}'s epochs, whose seconds start where this one's end (plus {@code gap} seconds). */
        public Result then(Result next, double gap) {
            List<Double> c = new ArrayList<>(cider), q = new ArrayList<>(vqa), s = new ArrayList<>(seconds);
            c.addAll(next.cider);
            q.addAll(next.vqa);
            double end = (seconds.isEmpty() ? 0 : seconds.get(seconds.size() - 1)) + gap;
            for (double x : next.seconds) s.add(end + x);
            return new Result(c, q, s, samples + next.samples);
        }

        /** The same scores with {@code offset} seconds added to every epoch's time (e.g. the converter's fit before stage 1). */
        public Result shifted(double offset) {
            return new Result(cider, vqa, seconds.stream().map(x -> x + offset).toList(), samples);
        }
    }

    /** Receives each epoch's scores as soon as they are computed (epoch 1-based, of {@code epochs} planned). */
    @FunctionalInterface
    public interface EpochListener {
        void onEpoch(int epoch, int epochs, Map<String, Double> scores);
    }

    private VlRun() {}

    /**
     * @param vpgDir       a VPG folder, or null for {@code freshVpg}
     * @param projectorDir a projector folder, or null for a random projector into {@code llm}
     */
    public static Result train(FrozenLlm llm, Path vpgDir, Supplier<Vpg> freshVpg, Path projectorDir, long seed, Tensor features, VlDataset d,
                               Path out, TrainConfig tc, VpgTask.Part part, Predicate<List<Trainer.EvalRecord>> stop, boolean resume,
                               String label, PrintStream log) throws IOException {
        return train(llm, vpgDir, freshVpg, projectorDir, seed, features, d, out, tc, part, stop, resume, label, log, VlDecoding.paper(), null);
    }

    /** As above, evaluating every epoch with {@code decoding} and telling {@code listener} (may be null) each epoch's scores. */
    public static Result train(FrozenLlm llm, Path vpgDir, Supplier<Vpg> freshVpg, Path projectorDir, long seed, Tensor features, VlDataset d,
                               Path out, TrainConfig tc, VpgTask.Part part, Predicate<List<Trainer.EvalRecord>> stop, boolean resume,
                               String label, PrintStream log, VlDecoding decoding, EpochListener listener) throws IOException {
        try (Vpg vpg = vpgDir == null ? freshVpg.get() : Vpgs.load(vpgDir);
             Projector proj = projectorDir == null ? Projector.random(vpg.width(), llm.id(), seed) : Projector.load(projectorDir)) {
            VlModel m = new VlModel(llm.lm(), llm.tok(), vpg, proj);
            List<VlExample> ex = d.trainExamples(llm.tok());
            if (!tc.quiet()) log.printf("%n%s: %d examples x %d epochs; %s%n", label, ex.size(), tc.epochs(), String.join("; ", m.describe()));
            else log.printf("  %s ...%n", label);
            Trainer tr = new Trainer(new VpgTask(m, features, ex, part), tc).withEpochEval(e -> {
                Map<String, Double> scores = VlEval.run(m, features, d, 64, decoding).asMap();
                if (listener != null) listener.onEpoch(e, tc.epochs(), scores);
                return scores;
            });
            if (stop != null) tr.withStopRule(stop);
            List<Trainer.Metric> metrics = tr.run(resume, -1);
            if (io.vladapt.train.DataParallel.leader()) {   // under `vladapt launch`, rank 0 writes
                vpg.save(out.resolve("vpg"));
                proj.save(out.resolve("projector"));
                VlEval.write(VlEval.run(m, features, d, 64, decoding), decoding, out.resolve("eval.json"));
            }
            return of(tr.evals(), (long) metrics.size() * tc.effectiveBatch());
        }
    }

    /** The scores of a finished or running training folder, from its eval.jsonl. */
    public static Result read(Path trainDir) throws IOException {
        List<Trainer.EvalRecord> evals = Trainer.readEvals(trainDir.resolve("eval.jsonl"), Long.MAX_VALUE);
        if (evals.isEmpty()) throw new IllegalArgumentException(trainDir.resolve("eval.jsonl") + ": no epoch scores (not a training folder?)");
        return of(evals, 0);
    }

    private static Result of(List<Trainer.EvalRecord> evals, long samples) {
        List<Double> cider = new ArrayList<>(), vqa = new ArrayList<>(), secs = new ArrayList<>();
        for (Trainer.EvalRecord r : evals) {
            cider.add(r.scores().getOrDefault("cider", Double.NaN));
            vqa.add(r.scores().getOrDefault("vqa", Double.NaN));
            secs.add(r.seconds());
        }
        return new Result(cider, vqa, secs, samples);
    }
}
