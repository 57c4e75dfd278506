package io.vladapt.io;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.T;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model folder whose weights disagree with its config, or lack a tensor, fails with both named. */
class LlamaLoaderBadInputTest {
    static {
        T.opts(ScalarType.Float);
    }

    @TempDir
    Path tmp;

    Path copyOfTinyModel() throws IOException {
        Path src = Fixtures.dir("llama-tied-gqa"), dst = tmp.resolve("model");
        Files.createDirectories(dst);
        for (String f : new String[] {"config.json", "model.safetensors"}) Files.copy(src.resolve(f), dst.resolve(f));
        return dst;
    }

    @Test
    void shapeMismatchAgainstConfigNamesTensorAndShapes() throws IOException {
        Path dir = copyOfTinyModel();
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("\"intermediate_size\": 176", "\"intermediate_size\": 128"));
        FormatException e = assertThrows(FormatException.class, () -> LlamaLoader.load(dir, ScalarType.Float).close());
        assertTrue(e.getMessage().contains("tensor 'model.layers.0.mlp.gate_proj.weight' has shape [176, 64] but the config "
                + "implies [128, 64]"), e.getMessage());
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Path dir = copyOfTinyModel();
        try (PointerScope scope = new PointerScope(); SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            Map<String, Tensor> kept = new LinkedHashMap<>();
            for (String n : f.names()) if (!n.equals("model.norm.weight")) kept.put(n, f.load(n));
            SafetensorsWriter.write(dir.resolve("model.safetensors"), kept, Map.of());
        }
        FormatException e = assertThrows(FormatException.class, () -> LlamaLoader.load(dir, ScalarType.Float).close());
        assertTrue(e.getMessage().contains("missing tensor model.norm.weight"), e.getMessage());
    }

    @Test
    void missingConfigFieldIsNamed() throws IOException {
        Path dir = copyOfTinyModel();
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("\"num_hidden_layers\": 2,", ""));
        FormatException e = assertThrows(FormatException.class, () -> LlamaLoader.load(dir, ScalarType.Float).close());
        assertTrue(e.getMessage().contains("config.json: required field 'num_hidden_layers' is missing"), e.getMessage());
    }

    @Test
    void folderWithoutAModelIsRefused() {
        FormatException e = assertThrows(FormatException.class, () -> LlamaLoader.load(tmp, ScalarType.Float).close());
        assertTrue(e.getMessage().contains("neither an HF model folder"), e.getMessage());
    }
}
