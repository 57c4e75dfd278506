package io.vladapt.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vladapt.data.SyntheticCaptions;
import io.vladapt.ext.Threads;
import io.vladapt.ext.VlOps;
import io.vladapt.vpg.Recipe;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's plumbing at a toy size (numbers meaningless): two seeds, per-seed and median speed-ups
 * for every transfer, the robust measures, every seed's curves in the PNG, the summary; a second run
 * reads the finished stages back and prints the same table.
 */
class VpgTransDemoTest {
    @TempDir
    Path tmp;

    static VpgTransDemo.Options tiny(Path dir) {
        return new VpgTransDemo.Options(dir, new SyntheticCaptions.Spec(32, 10, 32, 11), 120, 1, 1, 16, 1, 24, 1, 280, 16, 1, 1, 16, 1, 64, 1, 4, 16,
                1, 1, 2, new Recipe(1e-3, 1e-5, 0.5, 2, 16, 1, 5, 0.05, 7), 2, 16, true, 7, true, 2,
                "attributes");
    }

    static String run(VpgTransDemo.Options o) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        new VpgTransDemo(o, new PrintStream(b, true)).run();
        return b.toString();
    }

    @Test
    void twoSeedsGiveAPerSeedTableWithMedians() throws Exception {
        VlOps.load();
        Threads.set(1);
        String out = run(tiny(tmp));
        assertTrue(out.contains("Speed-up per seed [7, 8] -> median"), out);
        assertTrue(out.contains("small -> large (same tokenizer) | VPGTrans vs TFS"), out);
        assertTrue(out.contains("small -> large (same tokenizer) | VPGTrans vs random-VPG TFS"), out);
        assertTrue(out.contains("char-aligned converter | VPGTrans vs TFS"), out);
        assertTrue(out.contains("Noise-robust, per seed -> median: epochs to reach 95% of TFS's best"), out);
        assertTrue(out.contains("captions (CIDEr-D) over 2 seeds: median Table 3"), out);
        Path runs = tmp.resolve("run");
        assertTrue(Files.size(runs.resolve("vpgtrans_curves.png")) > 1000);
        JsonNode s = new ObjectMapper().readTree(Files.readString(runs.resolve("summary.json")));
        JsonNode row = s.get("speedup").get("small -> large (same tokenizer) | VPGTrans vs TFS").get("captions_cider");
        assertEquals(2, row.get("per_seed").size());
        assertTrue(s.get("curves").get("small -> large (same tokenizer)").has("VPGTrans seed 8"), s.get("curves").toString());
        // the seeds' source runs differ (their own init, data order, dropout)
        assertTrue(Files.isRegularFile(runs.resolve("seed-7/source/stage.json")) && Files.isRegularFile(runs.resolve("seed-8/source/stage.json")));
        assertTrue(Files.mismatch(runs.resolve("seed-7/source/train/metrics.jsonl"), runs.resolve("seed-8/source/train/metrics.jsonl")) >= 0);

        // again in the same folder: everything is read back, the same table
        String again = run(tiny(tmp));
        String table = out.substring(out.indexOf("Speed-up per seed")), table2 = again.substring(again.indexOf("Speed-up per seed"));
        assertEquals(table.substring(0, table.indexOf("wall time")), table2.substring(0, table2.indexOf("wall time")));

        // the contrastive init: its own init and run folders beside the cached data and models
        String c = run(tiny(tmp).withSeeds(1).withInit("contrastive"));
        assertTrue(c.contains("image-text contrastive on the training captions") && c.contains("recall@1"), c);
        assertTrue(Files.isRegularFile(tmp.resolve("run-contrastive/seed-7/large/stage2/stage.json")));
        assertTrue(Files.isRegularFile(runs.resolve("seed-7/large/stage2/stage.json")), "the attribute-init runs are kept");
    }
}
