package io.vladapt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.data.ScienceQaPrompt;
import io.vladapt.data.SyntheticScienceQa;
import io.vladapt.testutil.T;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** LaVIN training as a library call: config -> run with a progress listener -> metrics and an adapter the API loads; resume continues. */
class LavinTrainingTest {
    @Test
    void runReportsProgressWritesAnAdapterAndResumes(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        T.opts(org.bytedeco.pytorch.global.torch.ScalarType.Float);
        TinyModels t = TinyModels.get();
        Path data = tmp.resolve("sqa"), out = tmp.resolve("run");
        SyntheticScienceQa.write(data, new SyntheticScienceQa.Spec(16, 2, 2, 32, 5));
        LavinTraining.Config c = LavinTraining.config(t.llm, t.vit, out).scienceQa(data).prompt(new ScienceQaPrompt("QCM-A", "Response:", false))
                .shape(new AdapterShape(4, 2, 5, 0.1, 16, 3, false)).epochs(2).batch(4).accum(2).maxSeqLen(256).seed(1).quiet(true);
        List<LavinTraining.Progress> seen = new ArrayList<>();
        LavinTraining.Result r = LavinTraining.run(c, seen::add);
        int steps = r.examples() / 4 / 2 * 2;                                              // 2 epochs of examples / (batch x accum)
        assertTrue(steps > 0, "examples " + r.examples());
        assertEquals(steps, r.steps().size());
        assertEquals(2L * steps, seen.size(), "one progress report per micro-batch");
        assertEquals(2L * steps, seen.get(seen.size() - 1).totalMicroBatches());
        assertTrue(seen.stream().allMatch(p -> Double.isFinite(p.loss()) && p.loss() > 0));
        assertTrue(Files.isRegularFile(r.adapter().resolve("adapter_model.safetensors")));
        try (VisionLanguageModel m = VisionLanguageModel.lavin(t.llm, t.vit, r.adapter()).load()) {
            assertFalse(m.generate(ChatRequest.of("hello").withSampling(Sampling.greedy(3))).finishReason() == FinishReason.CANCELLED);
        }
        // resume with one more epoch: the two finished epochs are read back, one more is trained
        LavinTraining.Result more = LavinTraining.run(c.epochs(3).resume(true), null);
        assertEquals(steps / 2 * 3, more.steps().size());
        assertEquals(r.steps().get(steps - 1).loss(), more.steps().get(steps - 1).loss(), "resumed runs keep the finished steps' records");
    }
}
