package io.vladapt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The schedules VPGTrans needs next to LaVIN's, and per-epoch evaluation that survives a resume. */
class TrainerScheduleTest {
    @TempDir
    Path tmp;

    static TrainConfig cfg(Path out, TrainConfig.Optim o) {
        // 32 examples, batch 4: 8 steps per epoch, 3 epochs; lr = 0.256 * 4 / 256 = 0.004
        return new TrainConfig(3, 4, 1, 0.256, 1, 0.05, 0, 3, 5, 3, out, true, o);
    }

    @Test
    void constantScheduleIsThePeakFromTheFirstStep() {
        TrainConfig c = cfg(tmp, new TrainConfig.Optim(0.9, 0.999, TrainConfig.Schedule.CONSTANT, 0));
        for (double e : new double[] {0, 0.01, 1.5, 2.99}) assertEquals(c.lr(), c.lrAt(e), 0.0);
    }

    @Test
    void cosineEndsAtTheMinimumAndLavinAtZero() {
        TrainConfig c = cfg(tmp, new TrainConfig.Optim(0.9, 0.999, TrainConfig.Schedule.WARMUP_COSINE, 1e-3));
        assertEquals(0.0, c.lrAt(0), 0.0);
        assertEquals(c.lr(), c.lrAt(1), 1e-15);
        assertEquals(1e-3, c.lrAt(3), 1e-15);
        assertEquals(1e-3 + (c.lr() - 1e-3) * 0.5, c.lrAt(2), 1e-15);
        TrainConfig lavin = cfg(tmp, TrainConfig.Optim.LAVIN);
        assertEquals(0.0, lavin.lrAt(3), 1e-18);
        assertThrows(IllegalArgumentException.class, () -> new TrainConfig.Optim(0.9, 1.0, TrainConfig.Schedule.CONSTANT, 0));
    }

    @Test
    void betasReachTheOptimizer() throws IOException {
        // same data, seed and lr: beta2 0.95 and 0.999 must give different curves after the first step
        List<Trainer.Metric> a, b;
        try (LinearRegressionTask t = new LinearRegressionTask(32, 1)) {
            a = new Trainer(t, cfg(tmp.resolve("a"), new TrainConfig.Optim(0.9, 0.95, TrainConfig.Schedule.CONSTANT, 0))).run(false, -1);
        }
        try (LinearRegressionTask t = new LinearRegressionTask(32, 1)) {
            b = new Trainer(t, cfg(tmp.resolve("b"), new TrainConfig.Optim(0.9, 0.999, TrainConfig.Schedule.CONSTANT, 0))).run(false, -1);
        }
        // Adam's first bias-corrected update is lr * sign-like g/|g| whatever the betas: same loss after it
        assertEquals(a.get(1).loss(), b.get(1).loss(), 1e-6 * a.get(1).loss());
        assertTrue(a.get(5).loss() != b.get(5).loss(), "beta2 changed nothing");
    }

    @Test
    void epochScoresAreWrittenOncePerEpochAcrossAResume() throws IOException {
        Path out = tmp.resolve("run");
        AtomicInteger calls = new AtomicInteger();
        Trainer.EpochEval ev = epoch -> {
            calls.incrementAndGet();
            return Map.of("score", epoch * 10.0);
        };
        TrainConfig c = cfg(out, new TrainConfig.Optim(0.9, 0.999, TrainConfig.Schedule.WARMUP_COSINE, 0));
        try (LinearRegressionTask t = new LinearRegressionTask(32, 1)) {
            Trainer tr = new Trainer(t, c).withEpochEval(ev);
            tr.run(false, 13);  // epoch 1 done (step 8), killed mid-epoch 2 after the checkpoint at step 10
            assertEquals(1, tr.evals().size());
        }
        assertEquals(1, calls.get());
        try (LinearRegressionTask t = new LinearRegressionTask(32, 1)) {
            Trainer tr = new Trainer(t, c).withEpochEval(ev);
            tr.run(true, -1);
            assertEquals(List.of(1, 2, 3), tr.evals().stream().map(Trainer.EvalRecord::epoch).toList());
            assertEquals(30.0, tr.evals().get(2).scores().get("score"), 0.0);
        }
        assertEquals(3, calls.get(), "epoch 1 is not scored again, epochs 2 and 3 once each");
        assertEquals(List.of(1, 2, 3), Trainer.readEvals(out.resolve("eval.jsonl"), 99).stream().map(Trainer.EvalRecord::epoch).toList());
    }
}
