package io.vladapt.vpg;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.io.SafetensorsFile;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.T;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints and inputs that do not fit the config fail with messages naming the tensor and both shapes. */
class QFormerBadInputTest {
    static final QFormerConfig FIXTURE_CONFIG = new QFormerConfig(32, 4, 4, 64, 2, 24, 8, 1e-12, 1e-6, 0.1, 0.1);

    private static String loadError(QFormerConfig c) {
        try (PointerScope scope = new PointerScope();
             SafetensorsFile f = SafetensorsFile.open(Fixtures.dir("qformer").resolve("model.safetensors"))) {
            return assertThrows(IllegalArgumentException.class, () -> QFormerCheckpoint.load(f, c).close()).getMessage();
        }
    }

    private static void contains(String message, String... parts) {
        for (String p : parts) assertTrue(message.contains(p), "'" + p + "' missing from: " + message);
    }

    @Test
    void queryWidthMismatchNamesTheTensorAndBothShapes() {
        QFormerConfig narrow = new QFormerConfig(16, 4, 4, 64, 2, 24, 8, 1e-12, 1e-6, 0.1, 0.1);
        contains(loadError(narrow), "'query_tokens'", "[1, 8, 32]", "[1, 8, 16]", "hidden_size 16");
    }

    @Test
    void encoderWidthMismatchNamesTheTensorAndBothShapes() {
        QFormerConfig otherVit = new QFormerConfig(32, 4, 4, 64, 2, 16, 8, 1e-12, 1e-6, 0.1, 0.1);
        contains(loadError(otherVit), "'vision_model.post_layernorm.weight' (ln_vision.weight)", "[24]", "[16]",
                "encoder_hidden_size 16");
    }

    @Test
    void crossAttentionKeyWidthMismatchIsNamed(@TempDir Path dir) throws Exception {
        try (PointerScope scope = new PointerScope(); QFormer m = QFormerInit.random(FIXTURE_CONFIG, 1)) {
            Map<String, Tensor> t = new LinkedHashMap<>(m.params().asMap());
            String key = QFormerNames.layer(2) + "crossattention.attention.key.weight";
            t.put(key, T.randn(ScalarType.Float, 1, 32, 20));
            Path file = dir.resolve("bad.safetensors");
            SafetensorsWriter.write(file, t, Map.of());
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                String msg = assertThrows(IllegalArgumentException.class, () -> QFormerCheckpoint.load(f, FIXTURE_CONFIG)).getMessage();
                contains(msg, "'" + key + "'", "[32, 20]", "[32, 24]", file.getFileName().toString());
            }
        }
    }

    @Test
    void missingTensorIsNamedWithEverySpellingTried() {
        QFormerConfig deeper = new QFormerConfig(32, 5, 4, 64, 2, 24, 8, 1e-12, 1e-6, 0.1, 0.1);
        contains(loadError(deeper), "missing VPG tensor 'qformer.encoder.layer.4.attention.attention.query.weight'",
                "Qformer.bert.encoder.layer.4.attention.self.query.weight");
    }

    @Test
    void wrongInputRankOrWidthIsRefused() {
        try (PointerScope scope = new PointerScope(); QFormer m = QFormerInit.random(FIXTURE_CONFIG, 2)) {
            String rank = assertThrows(IllegalArgumentException.class,
                    () -> m.forward(T.randn(ScalarType.Float, 1, 10, 24), false)).getMessage();
            contains(rank, "imageEmbeds", "(B, N, d_v)", "rank 2", "[10, 24]");
            String width = assertThrows(IllegalArgumentException.class,
                    () -> m.forward(T.randn(ScalarType.Float, 1, 2, 10, 16), false)).getMessage();
            contains(width, "imageEmbeds width 16", "encoder_hidden_size 24", "[2, 10, 16]");
            String empty = assertThrows(IllegalArgumentException.class,
                    () -> m.forward(T.randn(ScalarType.Float, 1, 2, 0, 24), false)).getMessage();
            contains(empty, "no images or no tokens");
        }
    }
}
