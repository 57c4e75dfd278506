package io.vladapt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A VPGTrans training stage with both frozen backbones quantised (int4, group 32), on VpgTransCliTest's models. */
class QuantizedVpgTransCliTest {
    @TempDir
    static Path tmp;

    @BeforeAll
    static void models() throws Exception {
        VpgTransCliTest.tmp = tmp;
        VpgTransCliTest.models();
    }

    @Test
    void aStageTrainsWithQuantisedBackbones() {
        VpgTransCliTest.Run r = VpgTransCliTest.vladapt(VpgTransCliTest.stage("tfs", "small", "q", "--quantize", "int4:32", "--quantize-vit",
                "int4:32", "--qformer-config", tmp.resolve("qformer_config.json").toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(tmp.resolve("q/projector/projector.safetensors")), "projector written");
        assertTrue(r.out().contains("CIDEr-D"), r.out());
    }
}
