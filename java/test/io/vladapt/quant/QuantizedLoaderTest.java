package io.vladapt.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.io.ClipLoader;
import io.vladapt.io.LlamaLoader;
import io.vladapt.io.ModelConfigs;
import io.vladapt.io.TensorSource;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.Tensors;
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

/** The loaders with quantised projections: pre-quantised folders (ViT and LLM) against quantise-at-load, bit for bit. */
class QuantizedLoaderTest {
    @TempDir
    Path tmp;

    /** A CLIP tower saved pre-quantised (int8, with zero points) loads to the same outputs as quantising the dense one at load. */
    @Test
    void preQuantisedVitEqualsQuantiseAtLoad() throws Exception {
        T.opts(ScalarType.Float);
        Path dense = Fixtures.dir("clip-vit"), saved = tmp.resolve("vit-int8");
        QuantScheme s = QuantScheme.int8().asymmetric();
        try (PointerScope scope = new PointerScope(); TensorSource src = LlamaLoader.hfWeights(dense)) {
            QuantizedCheckpoint.quantize(src, s, QuantizedCheckpoint::isProjection).save(saved, ModelConfigs.readJson(dense.resolve("config.json")));
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard();
             ClipVisionModel a = ClipLoader.load(dense, ScalarType.Float, "cpu", 0, s);
             ClipVisionModel b = ClipLoader.load(saved, ScalarType.Float, "cpu", 0, null)) {
            assertEquals("int8:asym", b.quantization());
            assertEquals(a.layers().keySet(), b.layers().keySet());
            assertEquals(3 * 6, b.layers().size(), "3 blocks x 6 projections");
            torch.manual_seed(3);
            Tensor pixels = torch.randn(new long[] {2, 3, 32, 32}, Tensors.options(ScalarType.Float));
            ClipVisionModel.Output oa = a.forward(pixels, null, true), ob = b.forward(pixels, null, true);
            assertTrue(torch.equal(oa.lastHiddenState(), ob.lastHiddenState()), "same outputs");
            try (ClipVisionModel d = ClipLoader.load(dense, ScalarType.Float)) {
                double e = T.err(oa.lastHiddenState(), d.forward(pixels, null, false).lastHiddenState());
                System.out.printf("int8:asym ViT vs float32, last hidden state: err %.2e%n", e);
                assertTrue(e < 0.05, "int8 ViT within 0.05 of float32: " + e);
            }
        }
    }

    /** A writer's ignore list (a projection left dense) loads: that projection dense, the rest quantised, same logits. */
    @Test
    void aProjectionLeftDenseByTheWriterLoadsDense() throws Exception {
        T.opts(ScalarType.Float);
        Path dense = Fixtures.dir("llama-tied-gqa"), saved = tmp.resolve("llm-int8");
        String keep = "model.layers.1.mlp.down_proj.weight";
        try (PointerScope scope = new PointerScope(); TensorSource src = LlamaLoader.hfWeights(dense)) {
            QuantizedCheckpoint.quantize(src, QuantScheme.int8(), n -> QuantizedCheckpoint.isProjection(n) && !n.equals(keep))
                    .save(saved, ModelConfigs.readJson(dense.resolve("config.json")));
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard();
             LlamaModel m = LlamaLoader.load(saved, ScalarType.Float, "cpu", null);
             LlamaModel ref = LlamaLoader.load(dense, ScalarType.Float, "cpu", QuantScheme.int8())) {
            assertEquals("int8", m.quantization());
            assertEquals(13, m.layers().size());
            assertTrue(m.params().has(keep) && !m.layers().containsKey("model.layers.1.mlp.down_proj"));
            // the reference: quantised at load except that projection, taken dense from the original
            Map<String, io.vladapt.nn.Projection> layers = new LinkedHashMap<>(ref.layers());
            layers.remove("model.layers.1.mlp.down_proj");
            io.vladapt.nn.Params p = new io.vladapt.nn.Params();
            ref.params().asMap().forEach(p::put);
            try (LlamaModel d = LlamaLoader.load(dense, ScalarType.Float)) {
                p.put(keep, d.params().get(keep));
            }
            Tensor ids = Tensors.longs(1, 5, 9, 33, 7).view(1, 5);
            Tensor got = m.forward(ids, false).logits();
            assertFalse(torch.isnan(got).any().item_bool());
            // same codes, same dense tensors: the same model as quantise-at-load with that projection dense
            Tensor want = new LlamaModel(ref.config(), p, ScalarType.Float, layers, "int8").forward(ids, false).logits();
            assertTrue(torch.equal(got, want), "identical logits");
        }
    }
}
