package io.vladapt.vpg;

import static io.vladapt.testutil.T.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.io.SafetensorsFile;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.nn.Params;
import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.T;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny random BLIP-2 VPG (made by fixtures/qformer/make_qformer_fixture.py from transformers'
 * Blip2ForConditionalGeneration) against transformers' output, and the same weights after a trip
 * through VLAdapt's own format and LAVIS's naming.
 */
class QFormerParityTest {
    static final String FIXTURE = "qformer";
    static final double TOL = 1e-5;

    static {
        T.opts(ScalarType.Float);
    }

    @Test
    void hfBlip2FolderMatchesTransformers() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard();
             QFormer m = QFormerCheckpoint.load(Fixtures.dir(FIXTURE))) {
            QFormerConfig c = m.config();
            assertEquals(new QFormerConfig(32, 4, 4, 64, 2, 24, 8, 1e-12, 1e-6, 0.1, 0.1), c);
            Map<String, Tensor> e = Fixtures.expected(FIXTURE);
            Tensor out = m.forward(e.get("vit_features"), false);
            double maxAbs = out.sub(e.get("last_hidden_state")).abs().max().item_double();
            System.out.println("QFormer parity vs transformers: max |diff| = " + maxAbs);
            assertClose("last_hidden_state", out, e.get("last_hidden_state"), TOL);
            // HF's vision_model.post_layernorm landed as ln_vision
            try (SafetensorsFile f = SafetensorsFile.open(Fixtures.dir(FIXTURE).resolve("model.safetensors"))) {
                assertClose("ln_vision.weight", m.params().get("ln_vision.weight"), f.load("vision_model.post_layernorm.weight"), 0);
            }
        }
    }

    @Test
    void ownFormatRoundTripGivesTheSameOutput(@TempDir Path dir) throws Exception {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard();
             QFormer m = QFormerCheckpoint.load(Fixtures.dir(FIXTURE))) {
            QFormerCheckpoint.save(m, dir);
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(QFormerCheckpoint.WEIGHTS))) {
                assertTrue(f.has("ln_vision.weight") && !f.has("vision_model.post_layernorm.weight"), f.names().toString());
                assertEquals(QFormer.parameterShapes(m.config()).keySet(), f.names());
            }
            try (QFormer back = QFormerCheckpoint.load(dir)) {
                assertEquals(m.config(), back.config());
                Tensor x = Fixtures.expected(FIXTURE).get("vit_features");
                assertTrue(torch.equal(m.forward(x, false), back.forward(x, false)));
            }
        }
    }

    @Test
    void lavisNamesLoadToTheSameModel(@TempDir Path dir) throws Exception {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard();
             QFormer m = QFormerCheckpoint.load(Fixtures.dir(FIXTURE))) {
            Map<String, Tensor> lavis = new LinkedHashMap<>();
            m.params().asMap().forEach((n, t) -> lavis.put(QFormerNames.lavis(n), t));
            assertTrue(lavis.containsKey("Qformer.bert.embeddings.LayerNorm.weight"));
            assertTrue(lavis.containsKey("Qformer.bert.encoder.layer.0.attention.self.query.weight"));
            assertTrue(lavis.containsKey("Qformer.bert.encoder.layer.2.crossattention.self.key.weight"));
            assertTrue(lavis.containsKey("Qformer.bert.encoder.layer.3.output_query.LayerNorm.bias"));
            assertTrue(lavis.containsKey("ln_vision.bias") && lavis.containsKey("query_tokens"));
            Path file = dir.resolve("lavis.safetensors");
            SafetensorsWriter.write(file, lavis, Map.of());
            try (SafetensorsFile f = SafetensorsFile.open(file); QFormer back = QFormerCheckpoint.load(f, m.config())) {
                Tensor x = Fixtures.expected(FIXTURE).get("vit_features");
                assertTrue(torch.equal(m.forward(x, false), back.forward(x, false)));
            }
        }
    }

    @Test
    void dropoutOnlyInTraining() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard();
             QFormer m = QFormerCheckpoint.load(Fixtures.dir(FIXTURE))) {
            Tensor x = Fixtures.expected(FIXTURE).get("vit_features");
            Tensor eval1 = m.forward(x, false), eval2 = m.forward(x, false);
            assertTrue(torch.equal(eval1, eval2), "eval mode must be deterministic");
            torch.manual_seed(1);
            Tensor train1 = m.forward(x, true);
            torch.manual_seed(2);
            Tensor train2 = m.forward(x, true);
            assertFalse(torch.equal(train1, eval1), "dropout must change the output in training");
            assertFalse(torch.equal(train1, train2), "different dropout masks must give different outputs");
            Params shared = new Params();                       // the same tensors, one more reference each
            m.params().asMap().forEach(shared::put);
            try (QFormer noDrop = new QFormer(m.config().withDropout(0, 0), shared)) {
                assertTrue(torch.equal(noDrop.forward(x, true), eval1), "p = 0 must make training mode deterministic");
            }
        }
    }
}
