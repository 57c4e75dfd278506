package io.vladapt.mma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.io.FormatException;
import io.vladapt.testutil.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adapter folders round-trip, refuse other base models, and LaVIN's released .pth layout maps by name
 * (DDP's "module." prefix, the neck as adapter_proj.conv_A / conv_B).
 */
class MmaCheckpointTest {
    @TempDir
    Path tmp;

    @Test
    void savedFolderLoadsBackExactly() throws IOException {
        try (TinyMma t = new TinyMma(false, 5); PointerScope scope = new PointerScope()) {
            MmaCheckpoint.Base base = new MmaCheckpoint.Base("lm", 300, 3, 48, "vit", 6, 32);
            MmaCheckpoint.save(tmp.resolve("a"), t.model.adapters(), base);
            assertTrue(Files.isRegularFile(tmp.resolve("a/adapter_model.safetensors")));
            assertEquals(t.model.config(), MmaCheckpoint.config(tmp.resolve("a")));
            assertEquals(base, MmaCheckpoint.base(tmp.resolve("a")));
            try (MmaAdapters fresh = MmaAdapters.init(MmaCheckpoint.config(tmp.resolve("a")), 99)) {
                MmaCheckpoint.load(tmp.resolve("a"), fresh);
                t.model.adapters().params().asMap().forEach((n, p) -> assertTrue(torch.equal(p, fresh.params().get(n)), n));
            }
            MmaCheckpoint.checkBase(base, t.model, tmp.resolve("a"));
            FormatException e = assertThrows(FormatException.class,
                    () -> MmaCheckpoint.checkBase(new MmaCheckpoint.Base("lm", 32000, 32, 4096, "vit", 24, 1024), t.model, tmp.resolve("a")));
            assertTrue(e.getMessage().contains("adapters were trained for"), e.getMessage());
        }
    }

    @Test
    void lavinReleasedCheckpointMapsByName() {
        AdapterSettings s = new AdapterSettings(2, 1.0, 10.0, 0.1);
        MmaConfig c = new MmaConfig(2, 16, 2, 8, 4, s, s, 6, 2, false);
        try (PointerScope scope = new PointerScope(); MmaAdapters a = MmaAdapters.init(c, 1)) {
            MmaCheckpoint.loadLavinPth(Fixtures.dir("lavin-adapter").resolve("checkpoint-19.pth"), a);
            Map<String, Tensor> expected = Fixtures.expected("lavin-adapter");
            assertEquals(expected.keySet(), a.params().asMap().keySet(), "every LaVIN name is an MMA tensor and back");
            expected.forEach((n, t) -> assertTrue(torch.equal(t, a.params().get(n)), n));
        }
    }

    @Test
    void wrongShapesAreNamed() {
        AdapterSettings s = new AdapterSettings(2, 1.0, 10.0, 0.1);
        MmaConfig rank8 = new MmaConfig(2, 16, 2, 8, 8, s, s, 6, 2, false);
        try (MmaAdapters a = MmaAdapters.init(rank8, 1)) {
            FormatException e = assertThrows(FormatException.class,
                    () -> MmaCheckpoint.loadLavinPth(Fixtures.dir("lavin-adapter").resolve("checkpoint-19.pth"), a));
            assertTrue(e.getMessage().contains("adapter tensor 'module.layers.0.adapter_attn.conv_A.weight' has shape [4, 16] but the adapter "
                    + "config implies [8, 16]"), e.getMessage());
        }
    }
}
