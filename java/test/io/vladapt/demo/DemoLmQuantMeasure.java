package io.vladapt.demo;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.data.ImagePipeline;
import io.vladapt.data.ScienceQa;
import io.vladapt.eval.AnswerParser;
import io.vladapt.eval.ScienceQaScore;
import io.vladapt.io.LlamaLoader;
import io.vladapt.io.TextTokenizer;
import io.vladapt.mma.AdapterSettings;
import io.vladapt.mma.MmaAdapters;
import io.vladapt.mma.MmaCheckpoint;
import io.vladapt.mma.MmaConfig;
import io.vladapt.mma.MmaData;
import io.vladapt.mma.MmaEval;
import io.vladapt.mma.MmaModel;
import io.vladapt.mma.MmaTask;
import io.vladapt.nn.ClipVisionConfig;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.GenerationConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.RandomInit;
import io.vladapt.quant.QuantScheme;
import java.nio.file.Path;
import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A measurement, not a unit test (off unless -Dvladapt.measure.demoLm=true): the demo LM (its data and
 * LM phases only, cached in ~/.cache/vladapt/demo like the demo's) reading the test split's captions, as
 * the demo's "LM reading captions (reference)" row, dense float32 vs int8 vs int4 (group 32: the demo
 * LM's FFN width 352 is not a multiple of 64): the teacher-forced answer loss and the ScienceQA accuracy.
 */
@EnabledIfSystemProperty(named = "vladapt.measure.demoLm", matches = "true")
class DemoLmQuantMeasure {
    @Test
    void quantisedDemoLm() throws Exception {
        Path dir = Path.of(System.getProperty("user.home"), ".cache", "vladapt", "demo");
        Demo.Options o = Demo.Options.standard(dir).quiet(true);
        Path lmDir = new Demo(o, System.out).prepareLm();
        ScienceQa sqa = ScienceQa.load(dir.resolve("data"), false);
        System.out.println(ScienceQaScore.header() + "   answer loss (teacher-forced, test split)");
        for (QuantScheme s : new QuantScheme[] {null, QuantScheme.int8(), QuantScheme.int4(32)}) {
            try (PointerScope scope = new PointerScope(); TextTokenizer tok = TextTokenizer.load(lmDir);
                 LlamaModel lm = LlamaLoader.load(lmDir, ScalarType.Float, "cpu", s);
                 ClipVisionModel vit = RandomInit.clip(new ClipVisionConfig(o.vitDim(), 2 * o.vitDim(), o.vitLayers(), 4, 32, 8, 3,
                         "quick_gelu", 1e-5), 1, ScalarType.Float)) {
                AdapterSettings a = new AdapterSettings(2, 1.0, 10.0, 0.1);
                MmaConfig mc = new MmaConfig(lm.config().numLayers(), lm.config().hiddenSize(), vit.config().numLayers(),
                        vit.config().hiddenSize(), 8, a, a, 128, 6, false);
                ImagePipeline pipe = ImagePipeline.lavin(vit.config().imageSize());
                try (MmaModel m = new MmaModel(lm, vit, MmaAdapters.init(mc, o.seed()), tok)) {   // fresh adapters: B = D = 0, identity
                    double loss;
                    try (MmaData test = MmaData.scienceQa(sqa, "test", m, Demo.format(), pipe, lm.config().maxPositions(), false, true, 0, true);
                         NoGradGuard ng = new NoGradGuard()) {
                        MmaTask task = new MmaTask(m, test.examples(), new MmaCheckpoint.Base("lm", 0, 0, 0, "vit", 0, 0));
                        double sum = 0;
                        int n = test.examples().size(), batches = 0;
                        for (int i = 0; i < n; i += 32) {
                            int[] idx = java.util.stream.IntStream.range(i, Math.min(n, i + 32)).toArray();
                            try (PointerScope step = new PointerScope()) {
                                sum += task.loss(idx).item_double();
                            }
                            batches++;
                        }
                        loss = sum / batches;
                    }
                    GenerationConfig g = GenerationConfig.greedy(o.evalTokens());
                    try (MmaData test = MmaData.scienceQa(sqa, "test", m, Demo.format(), pipe, lm.config().maxPositions(), false, false,
                            o.evalTokens(), true)) {
                        MmaEval.Result r = MmaEval.run(m, test, g, 32, false, new AnswerParser(AnswerParser.Mode.CHOICE,
                                AnswerParser.Fallback.WRONG, 0), true);
                        System.out.println(ScienceQaScore.row(s == null ? "float32" : s.toString(), r.table()) + String.format("   %.6f", loss));
                        assertTrue(Double.isFinite(loss));
                    }
                }
            }
        }
    }
}
