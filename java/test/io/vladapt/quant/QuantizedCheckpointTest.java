package io.vladapt.quant;

import static io.vladapt.testutil.T.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.io.SafetensorsFile;
import io.vladapt.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Quantise-at-load, save and load of compressed-tensors folders, and the errors bad files get. */
class QuantizedCheckpointTest {
    @TempDir
    Path tmp;

    static Stream<QuantScheme> schemes() {
        return Stream.of(QuantScheme.int8(), QuantScheme.int8().asymmetric(), QuantScheme.int4(32), QuantScheme.int4(128).asymmetric());
    }

    /** A tiny LLaMA-named dense checkpoint: two projections (f32 and bf16), embeddings, a norm, lm_head. */
    Path denseModel() throws IOException {
        torch.manual_seed(11);
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("model.embed_tokens.weight", randn(ScalarType.Float, 0.02, 10, 128));
        t.put("model.layers.0.self_attn.q_proj.weight", randn(ScalarType.Float, 0.05, 45, 128));
        t.put("model.layers.0.mlp.down_proj.weight", randn(ScalarType.Float, 0.05, 128, 256).to(ScalarType.BFloat16));
        t.put("model.norm.weight", randn(ScalarType.Float, 1.0, 128));
        t.put("lm_head.weight", randn(ScalarType.Float, 0.02, 10, 128));
        Path dir = tmp.resolve("dense");
        Files.createDirectories(dir);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), t, Map.of());
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"llama\", \"hidden_size\": 128}");
        return dir;
    }

    QuantizedCheckpoint quantizeDense(QuantScheme s) throws IOException {
        try (SafetensorsFile src = SafetensorsFile.open(denseModel().resolve("model.safetensors"))) {
            return QuantizedCheckpoint.quantize(src, s, QuantizedCheckpoint::isProjection);
        }
    }

    Path saved(QuantScheme s) throws IOException {
        QuantizedCheckpoint q = quantizeDense(s);
        Path dir = tmp.resolve("q-" + s.toString().replace(':', '-'));
        q.save(dir, new ObjectMapper().readTree("{\"model_type\": \"llama\"}"));
        return dir;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void roundTripsThroughSaveAndLoad(QuantScheme s) throws IOException {
        try (PointerScope scope = new PointerScope()) {
            QuantizedCheckpoint q = quantizeDense(s);
            assertEquals(2, q.quantized().size(), q.toString());
            assertNull(q.weight("lm_head.weight"), "lm_head stays dense");
            assertEquals(3, q.dense().size());
            Path dir = tmp.resolve("rt");
            q.save(dir, new ObjectMapper().readTree("{\"model_type\": \"llama\"}"));
            JsonNode qc = new ObjectMapper().readTree(Files.readString(dir.resolve("config.json"))).get("quantization_config");
            assertEquals("compressed-tensors", qc.get("quant_method").asText());
            assertEquals(s.bits() == 8 ? "int-quantized" : "pack-quantized", qc.get("format").asText());
            assertEquals("lm_head", qc.get("ignore").get(0).asText());
            QuantizedCheckpoint back = QuantizedCheckpoint.load(dir, s);
            assertEquals(s, back.scheme());
            assertEquals(q.quantized().keySet(), back.quantized().keySet());
            assertEquals(q.dense().keySet(), back.dense().keySet());
            for (String name : q.quantized().keySet()) {
                QuantizedWeight a = q.weight(name), b = back.weight(name);
                assertTrue(torch.equal(a.q(), b.q()), name + " codes");
                assertTrue(torch.equal(a.scale(), b.scale()), name + " scales");
                if (a.zero() != null) assertTrue(torch.equal(a.zero(), b.zero()), name + " zero points");
                Tensor x = randn(ScalarType.Float, 1.0, 3, a.inFeatures());
                assertTrue(torch.equal(new QuantizedLinear(a, null).forwardKernel(x), new QuantizedLinear(b, null).forwardKernel(x)));
            }
            for (String name : q.dense().keySet()) assertTrue(torch.equal(q.dense().get(name), back.dense().get(name)), name);
        }
    }

    @Test
    void aSchemeMismatchNamesBothSchemes() throws IOException {
        Path dir = saved(QuantScheme.int8());
        var e = assertThrows(IllegalArgumentException.class, () -> QuantizedCheckpoint.load(dir, QuantScheme.int4(64)));
        assertTrue(e.getMessage().contains("int8 per channel") && e.getMessage().contains("int4 group 64")
                && e.getMessage().contains("scheme mismatch"), e.getMessage());
        // config.json naming int4 over int8 codes
        ObjectNode cfg = (ObjectNode) new ObjectMapper().readTree(Files.readString(dir.resolve("config.json")));
        cfg.set("quantization_config", CompressedTensors.config(QuantScheme.int4(32), java.util.List.of()));
        Files.writeString(dir.resolve("config.json"), cfg.toString());
        e = assertThrows(IllegalArgumentException.class, () -> QuantizedCheckpoint.load(dir, null));
        assertTrue(e.getMessage().contains("model.layers.0.self_attn.q_proj") && e.getMessage().contains("scheme mismatch"),
                e.getMessage());
    }

    /** Rewrites one tensor of a saved folder. */
    void replace(Path dir, String name, Function<Tensor, Tensor> f) throws IOException {
        Map<String, Tensor> all = new LinkedHashMap<>();
        try (SafetensorsFile src = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            for (String n : src.names()) all.put(n, src.load(n));
        }
        all.put(name, f.apply(all.get(name)));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), all, Map.of());
    }

    @Test
    void corruptScalesAreRefusedByTensorAndPosition() throws IOException {
        String scale = "model.layers.0.mlp.down_proj.weight_scale";
        double[] bad = {Double.NaN, Double.POSITIVE_INFINITY, 0.0, -0.5};
        String[] word = {"NaN", "infinite", "zero", "negative"};
        for (int i = 0; i < bad.length; i++) {
            for (QuantScheme s : new QuantScheme[] {QuantScheme.int8(), QuantScheme.int4(32)}) {
                try (PointerScope scope = new PointerScope()) {
                    Path dir = saved(s);
                    double v = bad[i];
                    replace(dir, scale, t -> {
                        Tensor c = t.clone();
                        c.view(-1).narrow(0, 5, 1).fill_(new Scalar(v));
                        return c;
                    });
                    var e = assertThrows(IllegalArgumentException.class, () -> QuantizedCheckpoint.load(dir, s));
                    String where = s.bits() == 8 ? "row 5" : "row 0, group 5";
                    assertTrue(e.getMessage().contains(scale) && e.getMessage().contains(word[i]) && e.getMessage().contains(where),
                            e.getMessage());
                }
            }
        }
    }

    @Test
    void scalesOfTheWrongShapeAreRefused() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Path dir = saved(QuantScheme.int4(32));
            String scale = "model.layers.0.self_attn.q_proj.weight_scale";
            replace(dir, scale, t -> t.narrow(1, 0, t.size(1) - 1).contiguous());
            var e = assertThrows(IllegalArgumentException.class, () -> QuantizedCheckpoint.load(dir, null));
            assertTrue(e.getMessage().contains(scale) && e.getMessage().contains("[45, 3]") && e.getMessage().contains("(45, 4)"),
                    e.getMessage());
            Path dir8 = saved(QuantScheme.int8());
            replace(dir8, scale, t -> t.narrow(0, 0, 44).contiguous());
            e = assertThrows(IllegalArgumentException.class, () -> QuantizedCheckpoint.load(dir8, null));
            assertTrue(e.getMessage().contains(scale) && e.getMessage().contains("(45, 1)"), e.getMessage());
        }
    }

    @Test
    void aGroupThatDoesNotDivideTheWidthIsRefused() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            // quantising: 128 inputs in groups of ... every legal group divides 128, so use a 96-wide weight
            Tensor w = randn(ScalarType.Float, 0.05, 8, 96);
            var e = assertThrows(IllegalArgumentException.class, () -> QuantizedWeight.quantize("m.fc1.weight", w, QuantScheme.int4(64)));
            assertTrue(e.getMessage().contains("m.fc1.weight") && e.getMessage().contains("group size 64")
                    && e.getMessage().contains("in_features 96"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> QuantScheme.parse("int4:48"));
            assertTrue(e.getMessage().contains("32, 64 or 128"), e.getMessage());
            // loading: codes of a 96-wide weight in groups of 32, under a config that says 64
            Path dir = tmp.resolve("g");
            QuantizedWeight q = QuantizedWeight.quantize("m.fc1.weight", w, QuantScheme.int4(32));
            new QuantizedCheckpoint(QuantScheme.int4(32), Map.of("m.fc1.weight", q), Map.of()).save(dir, null);
            ObjectNode cfg = (ObjectNode) new ObjectMapper().readTree(Files.readString(dir.resolve("config.json")));
            ((ObjectNode) cfg.get("quantization_config").get("config_groups").get("group_0").get("weights")).put("group_size", 64);
            Files.writeString(dir.resolve("config.json"), cfg.toString());
            e = assertThrows(IllegalArgumentException.class, () -> QuantizedCheckpoint.load(dir, null));
            assertTrue(e.getMessage().contains("m.fc1") && e.getMessage().contains("group size 64")
                    && e.getMessage().contains("in_features 96"), e.getMessage());
        }
    }

    @Test
    void badInputToTheLayerNamesTheLayerAndShape() {
        try (PointerScope scope = new PointerScope()) {
            QuantizedWeight q = QuantizedWeight.quantize("m.q_proj.weight", randn(ScalarType.Float, 0.05, 8, 64), QuantScheme.int8());
            QuantizedLinear layer = new QuantizedLinear(q, null);
            var e = assertThrows(IllegalArgumentException.class, () -> layer.forward(randn(ScalarType.Float, 1.0, 2, 63)));
            assertTrue(e.getMessage().contains("m.q_proj.weight") && e.getMessage().contains("[2, 63]")
                    && e.getMessage().contains("in_features = 64"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> layer.forward(randn(ScalarType.Double, 1.0, 2, 64)));
            assertTrue(e.getMessage().contains("float64"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new QuantizedLinear(q, randn(ScalarType.Float, 1.0, 7)));
            assertTrue(e.getMessage().contains("bias") && e.getMessage().contains("[7]"), e.getMessage());
            for (QuantKernels.Path p : QuantKernels.Path.values()) {
                if (QuantKernels.available().contains(p)) continue;             // a CPU without AVX-512 or AMX
                e = assertThrows(IllegalArgumentException.class, () -> QuantKernels.force(p).close());
                assertTrue(e.getMessage().contains("not available"), e.getMessage());
            }
        }
    }
}
