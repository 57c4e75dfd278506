package io.vladapt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.data.SceneQuestions;
import io.vladapt.data.SyntheticCaptions;
import io.vladapt.data.VqaDataset;
import io.vladapt.io.ModelConfigs;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.io.TextTokenizer;
import io.vladapt.io.WordTokenizerBuilder;
import io.vladapt.nn.ClipVisionConfig;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.RandomInit;
import io.vladapt.train.Trainer;
import io.vladapt.vpg.MultiSeedSpeedUp;
import io.vladapt.vpg.QFormerConfig;
import io.vladapt.vpg.Recipe;
import io.vladapt.vpg.SeedCurvesPlot;
import io.vladapt.vpg.VlDataset;
import io.vladapt.vpg.VpgInit;
import io.vladapt.vpg.VpgTransStages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The VPGTrans stages as library calls on tiny random models and a tiny synthetic COCO + VQA set:
 * every stage method end to end, the chain, resuming (read back, refused when the settings differ),
 * one seed giving one curve, and the multi-seed summary and plot on the resulting curves.
 */
class VpgTransferTest {
    @TempDir
    static Path tmp;

    static final QFormerConfig QF = new QFormerConfig(32, 2, 4, 64, 1, 32, 6, 1e-12, 1e-5, 0.1, 0.1);

    static VlDataset.Files files;

    @BeforeAll
    static void models() throws Exception {
        Path data = tmp.resolve("data");
        SyntheticCaptions.Spec spec = new SyntheticCaptions.Spec(16, 8, 32, 3);
        SyntheticCaptions.write(data, spec);
        List<String> corpus = new ArrayList<>();
        for (SyntheticCaptions.Sample s : SyntheticCaptions.generate(spec)) {
            corpus.addAll(s.captions());
            for (SceneQuestions.Qa q : s.questions()) corpus.add(VlDataset.vqaPrompt(q.question()) + " " + q.answer());
        }
        llm(tmp.resolve("small"), corpus, 32, 1);
        llm(tmp.resolve("large"), corpus, 48, 2);
        ClipVisionConfig vc = new ClipVisionConfig(32, 64, 2, 4, 32, 8, 3, "quick_gelu", 1e-5);
        try (ClipVisionModel vit = RandomInit.clip(vc, 3, ScalarType.Float)) {
            Files.createDirectories(tmp.resolve("vit"));
            ModelConfigs.writeClipVisionHf(vc, tmp.resolve("vit/config.json"));
            SafetensorsWriter.write(tmp.resolve("vit/model.safetensors"), new LinkedHashMap<>(vit.params().asMap()), Map.of());
        }
        String va = SyntheticCaptions.VAL;
        files = new VlDataset.Files(data.resolve("dataset_coco.json"), SyntheticCaptions.imageRoot(data), "train", false, "val", null, null, null,
                data.resolve(VqaDataset.questionsFileName(va)), data.resolve(VqaDataset.annotationsFileName(va)), SyntheticCaptions.imageDir(data, va));
    }

    static void llm(Path dir, List<String> corpus, int d, long seed) throws Exception {
        Files.createDirectories(dir);
        int vocab = WordTokenizerBuilder.write(dir, corpus, 1);
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            LlamaConfig c = new LlamaConfig(vocab, d, 2 * d, 1, 4, 4, d / 4, 1e-5, 10000.0, null, 128, false, false, tok.bosId(),
                    List.of(tok.eosId()), tok.padId(), "float32");
            try (LlamaModel lm = RandomInit.llama(c, seed, ScalarType.Float)) {
                ModelConfigs.writeLlamaHf(c, dir.resolve("config.json"));
                SafetensorsWriter.write(dir.resolve("model.safetensors"), new LinkedHashMap<>(lm.params().asMap()), Map.of());
            }
        }
    }

    static Recipe recipe(long seed) {
        return new Recipe(1e-3, 1e-5, 0.5, 3, 8, 1, 5, 0.05, seed);
    }

    static VpgTransfer.Options quiet() {
        return VpgTransfer.Options.defaults().threads(1).quiet(true).log(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    }

    static List<Double> losses(Path stage) throws Exception {
        List<Double> l = new ArrayList<>();
        for (String line : Files.readAllLines(stage.resolve("train/metrics.jsonl"))) {
            if (!line.isBlank()) l.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(line).get("loss").asDouble());
        }
        return l;
    }

    @Test
    void everyStageRunsAndAFinishedStageIsReadBack() throws Exception {
        Path small = tmp.resolve("small"), large = tmp.resolve("large"), runs = tmp.resolve("runs");
        List<String> epochs = new ArrayList<>();
        VpgTransfer.Options o = quiet().listener((stage, e, n, cider, vqa) -> epochs.add(stage + " " + e + "/" + n));
        Recipe r = recipe(7);
        VpgTransfer.Curve s1, s2, tfs;
        try (VpgTransfer vt = VpgTransfer.open(files, tmp.resolve("vit"), o)) {
            VpgTransfer.Curve source = vt.tfs(small, VpgInit.random(QF, -1), r, runs.resolve("source"));
            assertEquals(3, source.cider().size());
            VpgTransfer.ConverterFit conv = vt.fitConverter(small, large, VpgTransfer.Converter.official().captionsPerBatch(8).epochs(2),
                    runs.resolve("conv"));
            assertEquals("same-ids", conv.pairing(), "one tokenizer.json on both sides pairs by id");
            assertTrue(conv.pairs() > 0 && conv.finalLoss() < 1, conv.toString());
            vt.fuse(runs.resolve("conv"), runs.resolve("source/projector"), large, runs.resolve("fused"));
            s1 = vt.stage1(large, runs.resolve("source/vpg"), runs.resolve("fused"), r, runs.resolve("s1"));
            assertEquals(1, s1.cider().size(), "stage 1 is one epoch");
            assertEquals(-1, Files.mismatch(runs.resolve("source/vpg/qformer.safetensors"), runs.resolve("s1/vpg/qformer.safetensors")),
                    "stage 1 trains the projector only");
            s2 = vt.stage2(large, runs.resolve("s1"), r, runs.resolve("s2"));
            assertEquals(2, s2.cider().size(), "stage 2 runs the rest of the budget");
            tfs = vt.tfs(large, VpgInit.randomLike(runs.resolve("source/vpg")), r, runs.resolve("tfs"));
            assertEquals(3, tfs.cider().size());
            assertEquals(List.of("tfs 1/3", "tfs 2/3", "tfs 3/3", "stage1 1/1", "stage2 1/2", "stage2 2/2", "tfs 1/3", "tfs 2/3", "tfs 3/3"), epochs);
            // the whole chain in one call, stage 2 stopping against the TFS curve (at least 3 epochs, at most the budget)
            VpgTransfer.Transfer t = vt.transfer(small, large, runs.resolve("source"), VpgTransfer.Converter.official().captionsPerBatch(8).epochs(2),
                    r, runs.resolve("chain"), tfs);
            assertEquals(3, t.curve().cider().size());
            assertEquals(t.stage1().cider().get(0), t.curve().cider().get(0));
            assertTrue(t.curve().seconds().get(0) >= t.converter().seconds());
            assertTrue(Files.isRegularFile(runs.resolve("chain/stage2").resolve(VpgTransStages.MARKER)));
        }
        VpgTransfer.Curve vpgTrans = s1.then(s2);
        assertEquals(3, vpgTrans.cider().size());
        MultiSeedSpeedUp m = VpgTransfer.speedUp(List.of(new VpgTransfer.SeedRun(7, tfs, vpgTrans)), "cider");
        assertEquals(1, m.seeds().size());
        assertEquals(3, m.seeds().get(0).areaEpochs());

        // resumed: finished stages are read back (no epoch runs), the same curves
        epochs.clear();
        try (VpgTransfer vt = VpgTransfer.open(files, tmp.resolve("vit"), o.resume(true))) {
            VpgTransfer.Curve again = vt.stage2(large, runs.resolve("s1"), r, runs.resolve("s2"));
            assertEquals(s2.cider(), again.cider());
            assertEquals(s2.vqa(), again.vqa());
            assertEquals(s2.samples(), again.samples());
            assertEquals(List.of(), epochs, "a finished stage trains nothing when resumed");
            // the same folder with another recipe: refused, named
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> vt.stage2(large, runs.resolve("s1"), new Recipe(2e-3, 1e-5, 0.5, 3, 8, 1, 5, 0.05, 7), runs.resolve("s2")));
            assertTrue(e.getMessage().contains("other inputs or settings"), e.getMessage());
        }
        assertEquals(s2.cider(), VpgTransfer.read(runs.resolve("s2")).cider());

        // every seed's curves in one PNG
        Path png = tmp.resolve("curves.png");
        SeedCurvesPlot.write(png, Map.of("small -> large", List.of(new SeedCurvesPlot.Series("TFS", 7, tfs.cider(), tfs.vqa()),
                new SeedCurvesPlot.Series("VPGTrans", 7, vpgTrans.cider(), vpgTrans.vqa()))));
        assertTrue(javax.imageio.ImageIO.read(png.toFile()).getWidth() > 100);
    }

    @Test
    void oneSeedGivesOneCurve() throws Exception {
        Path large = tmp.resolve("large"), runs = tmp.resolve("seeds");
        try (VpgTransfer vt = VpgTransfer.open(files, tmp.resolve("vit"), quiet())) {
            // a random VPG (seed + 50), a random projector (seed + 51), data order and dropout (seed): all from the recipe's seed
            VpgTransfer.Curve a = vt.tfs(large, VpgInit.random(QF, -1), recipe(11).withEpochs(2), runs.resolve("a"));
            VpgTransfer.Curve b = vt.tfs(large, VpgInit.random(QF, -1), recipe(11).withEpochs(2), runs.resolve("b"));
            VpgTransfer.Curve c = vt.tfs(large, VpgInit.random(QF, -1), recipe(12).withEpochs(2), runs.resolve("c"));
            assertEquals(a.cider(), b.cider());
            assertEquals(a.vqa(), b.vqa());
            assertEquals(losses(runs.resolve("a")), losses(runs.resolve("b")), "same seed, same loss at every step");
            assertNotEquals(losses(runs.resolve("a")), losses(runs.resolve("c")), "another seed, another run");
            assertEquals(-1, Files.mismatch(runs.resolve("a/vpg/qformer.safetensors"), runs.resolve("b/vpg/qformer.safetensors")));
        }
    }

    @Test
    void aQformerConfigForAnotherVitIsRefused() throws Exception {
        try (VpgTransfer vt = VpgTransfer.open(files, tmp.resolve("vit"), quiet())) {
            QFormerConfig wide = new QFormerConfig(32, 2, 4, 64, 1, 48, 6, 1e-12, 1e-5, 0.1, 0.1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> vt.tfs(tmp.resolve("large"), VpgInit.random(wide, -1), recipe(1), tmp.resolve("wrong")));
            assertTrue(e.getMessage().contains("48-wide ViT states") && e.getMessage().contains("32 wide"), e.getMessage());
            assertTrue(Trainer.checkpoints(tmp.resolve("wrong/train")).isEmpty());
        }
    }

    /**
     * Issue 10 for VPGTrans: every stage with the frozen LLMs and ViT in bf16 (VPG, projector and converter
     * float32), from the same seed as a float32 session: the first step's loss within 2% of float32's, the
     * stage-1 projector stays float32, and the chain's scores are finite.
     */
    @Test
    void everyStageRunsWithBf16Backbones() throws Exception {
        Path small = tmp.resolve("small"), large = tmp.resolve("large"), runs = tmp.resolve("bf16");
        Recipe r = recipe(5).withEpochs(2);
        try (VpgTransfer f32 = VpgTransfer.open(files, tmp.resolve("vit"), quiet().dtype("float32"));
             VpgTransfer bf16 = VpgTransfer.open(files, tmp.resolve("vit"), quiet().dtype("bfloat16"))) {
            assertEquals(org.bytedeco.pytorch.global.torch.ScalarType.BFloat16, bf16.vit().dtype());
            f32.tfs(small, VpgInit.random(QF, -1), r, runs.resolve("source-f32"));
            VpgTransfer.Curve source = bf16.tfs(small, VpgInit.random(QF, -1), r, runs.resolve("source"));
            double a = losses(runs.resolve("source-f32")).get(0), b = losses(runs.resolve("source")).get(0);
            assertTrue(Math.abs(a - b) / a < 0.02, "first-step loss bf16 " + b + " vs float32 " + a);
            bf16.fitConverter(small, large, VpgTransfer.Converter.official().captionsPerBatch(8).epochs(2), runs.resolve("conv"));
            bf16.fuse(runs.resolve("conv"), runs.resolve("source/projector"), large, runs.resolve("fused"));
            VpgTransfer.Curve s1 = bf16.stage1(large, runs.resolve("source/vpg"), runs.resolve("fused"), r, runs.resolve("s1"));
            VpgTransfer.Curve s2 = bf16.stage2(large, runs.resolve("s1"), r, runs.resolve("s2"));
            for (VpgTransfer.Curve c : List.of(source, s1, s2)) {
                for (double x : c.cider()) assertTrue(Double.isFinite(x) && x >= 0, c.toString());
                for (double x : c.vqa()) assertTrue(Double.isFinite(x) && x >= 0, c.toString());
            }
            try (io.vladapt.vpg.Projector p = io.vladapt.vpg.Projector.load(runs.resolve("s1/projector"))) {
                p.params().asMap().values().forEach(t -> assertEquals(org.bytedeco.pytorch.global.torch.ScalarType.Float, io.vladapt.ext.OpCheck.dtype(t)));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> quiet().dtype("int8"));
    }
}
