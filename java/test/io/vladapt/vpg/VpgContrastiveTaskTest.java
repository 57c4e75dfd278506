package io.vladapt.vpg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.nn.Tensors;
import io.vladapt.train.TrainConfig;
import io.vladapt.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image-text contrastive VPG init learns to match images with their captions (no LLM involved). */
class VpgContrastiveTaskTest {
    @TempDir
    Path tmp;

    static final String[] COLOURS = {"red", "blue", "green", "yellow"}, SHAPES = {"circle", "square"};

    @Test
    void queriesLearnToPickTheirCaptions() throws Exception {
        io.vladapt.ext.VlOps.load();
        QFormerConfig c = new QFormerConfig(16, 1, 2, 32, 1, 16, 4, 1e-12, 1e-5, 0.0, 0.0);
        try (PointerScope s = new PointerScope(); QFormerVpg vpg = new QFormerVpg(QFormerInit.random(c, 5), -1)) {
            torch.manual_seed(3);
            Tensor features = torch.randn(new long[] {8, 5, 16}, Tensors.options(ScalarType.Float));     // (N_img, tokens, d_v)
            List<VlDataset.Caption> caps = new ArrayList<>();
            List<String> first = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String a = "a " + COLOURS[i % 4] + " " + SHAPES[i / 4], b = "one " + SHAPES[i / 4] + " that is " + COLOURS[i % 4];
                caps.add(new VlDataset.Caption(i, a));
                caps.add(new VlDataset.Caption(i, b));
                first.add(a);
            }
            long[] rows = {0, 1, 2, 3, 4, 5, 6, 7};
            VpgContrastiveTask task = new VpgContrastiveTask(vpg, features, caps, 64, 16, 0.1, 9);
            double before = task.recallAt1(rows, first);
            TrainConfig tc = new TrainConfig(40, 8, 1, 0.64, 0.5, 0.0, 1.0, 1, 0, 1, tmp.resolve("itc"), true);
            List<Trainer.Metric> m = new Trainer(task, tc).run(false, -1);
            double after = task.recallAt1(rows, first);
            assertTrue(m.get(m.size() - 1).loss() < 0.5 * m.get(0).loss(), "loss " + m.get(0).loss() + " -> " + m.get(m.size() - 1).loss());
            assertTrue(after >= 0.75 && after > before, "recall@1 " + before + " -> " + after);
            task.closeHeads();
            assertEquals(4, vpg.forward(features, false).size(1), "the VPG outlives the heads");
        }
    }

    @Test
    void wordsAreHashedWithoutAnyLlmTokenizer() {
        assertArrayEquals(VpgContrastiveTask.bag("A red, RED circle.", 97), VpgContrastiveTask.bag("a red red circle", 97));
        assertEquals(4, VpgContrastiveTask.bag("a red red circle", 97).length);
    }
}
