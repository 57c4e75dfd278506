package io.vladapt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.data.ImagePipeline;
import io.vladapt.data.ScienceQa;
import io.vladapt.data.ScienceQaPrompt;
import io.vladapt.data.SyntheticScienceQa;
import io.vladapt.mma.MmaCheckpoint;
import io.vladapt.mma.MmaData;
import io.vladapt.mma.MmaTask;
import io.vladapt.mma.TinyMmaAccess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mixture-of-Modality Training: bit-for-bit determinism, and resume = uninterrupted. */
class MmaTrainingTest {
    @TempDir
    static Path tmp;
    static ScienceQa sqa;

    @BeforeAll
    static void data() throws IOException {
        SyntheticScienceQa.write(tmp.resolve("sqa"), new SyntheticScienceQa.Spec(48, 4, 4, 32, 5));
        sqa = ScienceQa.load(tmp.resolve("sqa"), false);
    }

    static TrainConfig config(Path out) {
        // 48 examples, batch 4, accumulation 2: 6 optimizer steps per epoch, 12 in all; checkpoints every 5
        return new TrainConfig(2, 4, 2, 9e-3 * 40, 0.5, 0.02, 1.0, 11, 5, 2, out, true);
    }

    record Run(List<Trainer.Metric> metrics, Map<String, Tensor> weights) {}

    /** Trains a fresh tiny model; stopAfter < 0: to the end. */
    static Run train(Path out, boolean resume, long stopAfter) throws IOException {
        try (TinyMmaAccess t = new TinyMmaAccess(7);
             MmaData data = MmaData.scienceQa(sqa, "train", t.model(), ScienceQaPrompt.lavin(),
                     new ImagePipeline(16, ImagePipeline.Resize.SQUASH, ImagePipeline.IMAGENET_MEAN, ImagePipeline.IMAGENET_STD),
                     512, true, true, 0)) {
            MmaTask task = new MmaTask(t.model(), data.examples(), new MmaCheckpoint.Base("tiny", 300, 3, 48, "tiny", 6, 32));
            List<Trainer.Metric> m = new Trainer(task, config(out)).run(resume, stopAfter);
            Map<String, Tensor> w = new java.util.LinkedHashMap<>();
            t.model().adapters().params().asMap().forEach((n, p) -> w.put(n, p.detach().clone().retainReference()));
            return new Run(m, w);
        }
    }

    static void assertSameWeights(Run a, Run b) {
        assertEquals(a.weights().keySet(), b.weights().keySet());
        a.weights().forEach((n, t) -> assertTrue(torch.equal(t, b.weights().get(n)), n + " differs"));
    }

    @Test
    void sameSeedSameLossCurveToTheLastBit() throws IOException {
        Run a = train(tmp.resolve("a"), false, -1), b = train(tmp.resolve("b"), false, -1);
        assertEquals(12, a.metrics().size());
        for (int i = 0; i < a.metrics().size(); i++) {
            assertEquals(a.metrics().get(i).loss(), b.metrics().get(i).loss(), 0.0, "loss at step " + (i + 1));
            assertEquals(a.metrics().get(i).lr(), b.metrics().get(i).lr(), 0.0);
        }
        assertSameWeights(a, b);
        assertTrue(a.metrics().get(11).loss() < a.metrics().get(0).loss(), "the loss goes down");
        assertTrue(Files.isRegularFile(tmp.resolve("a/training.png")), "curves plotted");
        assertTrue(Files.isRegularFile(tmp.resolve("a/metrics.jsonl")));
    }

    @Test
    void resumedRunReachesTheUninterruptedWeights() throws IOException {
        Run whole = train(tmp.resolve("whole"), false, -1);
        Path out = tmp.resolve("resumed");
        train(out, false, 7);                            // "killed" after step 7 (mid-epoch, mid-way between checkpoints)
        Files.createDirectories(out.resolve(".checkpoint-9.tmp"));   // a checkpoint a kill left half-written: ignored
        assertEquals(out.resolve("checkpoint-7"), Trainer.latestCheckpoint(out));
        Run rest = train(out, true, -1);
        assertSameWeights(whole, rest);
        assertEquals(12, rest.metrics().size(), "metrics.jsonl continues where the checkpoint stopped");
        for (int i = 0; i < 12; i++) assertEquals(whole.metrics().get(i).loss(), rest.metrics().get(i).loss(), 0.0, "step " + (i + 1));
    }
}
