package io.vladapt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.data.SceneQuestions;
import io.vladapt.data.SyntheticCaptions;
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
import io.vladapt.vpg.QFormerConfig;
import io.vladapt.vpg.QFormerConfigFiles;
import io.vladapt.vpg.VlDataset;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
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
 * The VPGTrans commands chained as a user runs them, on tiny random models and a tiny synthetic
 * COCO + VQA set: tfs (the source) -> fit-converter -> fuse -> stage1 -> stage2 -> speedup, plus a
 * resume of a finished stage and the errors for mismatched parts.
 */
class VpgTransCliTest {
    @TempDir
    static Path tmp;

    @BeforeAll
    static void models() throws Exception {
        SyntheticCaptions.write(tmp.resolve("data"), new SyntheticCaptions.Spec(24, 10, 32, 3));
        List<String> corpus = new ArrayList<>();
        for (SyntheticCaptions.Sample s : SyntheticCaptions.generate(new SyntheticCaptions.Spec(24, 10, 32, 3))) {
            corpus.addAll(s.captions());
            for (SceneQuestions.Qa q : s.questions()) corpus.add(VlDataset.vqaPrompt(q.question()) + " " + q.answer());
        }
        llm(tmp.resolve("small"), corpus, 32, 1);
        llm(tmp.resolve("large"), corpus, 48, 2);
        ClipVisionConfig vc = new ClipVisionConfig(32, 64, 2, 4, 32, 8, 3, "quick_gelu", 1e-5);
        // the Q-Former a from-scratch run starts from: 12 queries, 64 wide, 2 layers, reading the 32-wide ViT
        QFormerConfigFiles.write(new QFormerConfig(64, 2, 4, 128, 1, 32, 12, 1e-12, 1e-5, 0.1, 0.1), tmp.resolve("qformer_config.json"));
        try (ClipVisionModel vit = RandomInit.clip(vc, 3, ScalarType.Float)) {
            Files.createDirectories(tmp.resolve("vit"));
            ModelConfigs.writeClipVisionHf(vc, tmp.resolve("vit/config.json"));
            SafetensorsWriter.write(tmp.resolve("vit/model.safetensors"), new LinkedHashMap<>(vit.params().asMap()), Map.of());
        }
    }

    static void llm(Path dir, List<String> corpus, int d, long seed) throws Exception {
        Files.createDirectories(dir);
        int vocab = WordTokenizerBuilder.write(dir, corpus, 1);
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            LlamaConfig c = new LlamaConfig(vocab, d, 2 * d, 2, 4, 4, d / 4, 1e-5, 10000.0, null, 128, false, false, tok.bosId(),
                    List.of(tok.eosId()), tok.padId(), "float32");
            try (LlamaModel lm = RandomInit.llama(c, seed, ScalarType.Float)) {
                ModelConfigs.writeLlamaHf(c, dir.resolve("config.json"));
                SafetensorsWriter.write(dir.resolve("model.safetensors"), new LinkedHashMap<>(lm.params().asMap()), Map.of());
            }
        }
    }

    record Run(int code, String out, String err) {}

    static Run vladapt(String... args) {
        PrintStream o = System.out, e = System.err;
        ByteArrayOutputStream bo = new ByteArrayOutputStream(), be = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(bo, true));
            System.setErr(new PrintStream(be, true));
            int code = Main.commandLine(args).execute(args);
            return new Run(code, bo.toString(), be.toString());
        } finally {
            System.setOut(o);
            System.setErr(e);
        }
    }

    static String[] stage(String cmd, String llm, String out, String... more) {
        List<String> a = new ArrayList<>(List.of("vpgtrans", cmd, "--data", tmp.resolve("data").toString(), "--vit", tmp.resolve("vit").toString(),
                "--llm", tmp.resolve(llm).toString(), "--out", tmp.resolve(out).toString(), "--epochs", "3", "--batch", "8", "--lr", "1e-3",
                "--threads", "1", "--quiet"));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    @Test
    void theStagesChainAndTheSpeedUpIsReadBack() throws Exception {
        Run src = vladapt(stage("tfs", "small", "source", "--qformer-config", tmp.resolve("qformer_config.json").toString()));
        assertEquals(0, src.code(), src.err());
        assertTrue(Files.isRegularFile(tmp.resolve("source/projector/projector.safetensors")));
        assertEquals(3, Trainer.readEvals(tmp.resolve("source/train/eval.jsonl"), 99).size());

        Run conv = vladapt("vpgtrans", "fit-converter", "--data", tmp.resolve("data").toString(), "--src-llm", tmp.resolve("small").toString(),
                "--tgt-llm", tmp.resolve("large").toString(), "--out", tmp.resolve("conv").toString(), "--epochs", "2", "--threads", "1");
        assertEquals(0, conv.code(), conv.err());
        assertTrue(conv.out().contains("same-ids"), conv.out());

        Run fuse = vladapt("vpgtrans", "fuse", "--converter", tmp.resolve("conv").toString(), "--source-projector",
                tmp.resolve("source/projector").toString(), "--tgt-llm", tmp.resolve("large").toString(), "--out", tmp.resolve("fused").toString());
        assertEquals(0, fuse.code(), fuse.err());

        Run s1 = vladapt(stage("stage1", "large", "s1", "--vpg", tmp.resolve("source/vpg").toString(), "--projector",
                tmp.resolve("fused").toString()));
        assertEquals(0, s1.code(), s1.err());
        assertEquals(1, Trainer.readEvals(tmp.resolve("s1/train/eval.jsonl"), 99).size(), "stage 1 is one epoch");
        // stage 1 left the VPG exactly as the source's
        assertEquals(-1, Files.mismatch(tmp.resolve("source/vpg/qformer.safetensors"), tmp.resolve("s1/vpg/qformer.safetensors")));

        Run s2 = vladapt(stage("stage2", "large", "s2", "--from", tmp.resolve("s1").toString()));
        assertEquals(0, s2.code(), s2.err());
        assertEquals(2, Trainer.readEvals(tmp.resolve("s2/train/eval.jsonl"), 99).size(), "stage 2 runs the remaining epochs");
        // resuming a finished stage trains nothing more and keeps its scores
        Run again = vladapt(stage("stage2", "large", "s2", "--from", tmp.resolve("s1").toString(), "--resume"));
        assertEquals(0, again.code(), again.err());
        assertEquals(2, Trainer.readEvals(tmp.resolve("s2/train/eval.jsonl"), 99).size());

        // the baseline: a random Q-Former shaped like the source VPG
        Run tfs = vladapt(stage("tfs", "large", "tfs", "--random-like", tmp.resolve("source/vpg").toString()));
        assertEquals(0, tfs.code(), tfs.err());
        Run sp = vladapt("vpgtrans", "speedup", "--tfs", tmp.resolve("tfs").toString(), "--stage1", tmp.resolve("s1").toString(), "--stage2",
                tmp.resolve("s2").toString());
        assertEquals(0, sp.code(), sp.err());
        assertTrue(sp.out().contains("captions (CIDEr-D): TFS best") && sp.out().contains("VQA (accuracy)"), sp.out());
        // several seeds, named by a {seed} template (here two copies of the same runs), with a plot of every seed's curves
        for (String seed : List.of("1", "2")) {
            for (String d : List.of("tfs", "s1", "s2")) copyTree(tmp.resolve(d), tmp.resolve("seed-" + seed).resolve(d));
        }
        Run multi = vladapt("vpgtrans", "speedup", "--seeds", "1,2", "--tfs", tmp.resolve("seed-{seed}/tfs").toString(), "--stage1",
                tmp.resolve("seed-{seed}/s1").toString(), "--stage2", tmp.resolve("seed-{seed}/s2").toString(), "--plot", tmp.resolve("sp.png").toString());
        assertEquals(0, multi.code(), multi.err());
        assertTrue(multi.out().contains("seed 1: Table 3") && multi.out().contains("seed 2: Table 3"), multi.out());
        assertTrue(multi.out().contains("captions (CIDEr-D) over 2 seeds: median Table 3") && multi.out().contains("median area ratio"), multi.out());
        assertTrue(Files.size(tmp.resolve("sp.png")) > 1000);
        Run bad = vladapt("vpgtrans", "speedup", "--seeds", "1,2,3", "--tfs", tmp.resolve("tfs").toString(), "--stage1", tmp.resolve("s1").toString(),
                "--stage2", tmp.resolve("s2").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--tfs: give 3 folders"), bad.err());
    }

    static void copyTree(Path from, Path to) throws Exception {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(q);
                else Files.copy(p, q);
            }
        }
    }

    @Test
    void fromScratchNamesItsStart() {
        Run none = vladapt(stage("tfs", "large", "nostart"));
        assertEquals(2, none.code());
        assertTrue(none.err().contains("tfs needs exactly one of --vpg"), none.err());
    }

    /** The decoding flags reach the per-epoch evaluation and eval.json; bad values end in one line, exit 2. */
    @Test
    void decodingFlagsReachTheEvaluation() throws Exception {
        List<String> a = new ArrayList<>(List.of("vpgtrans", "tfs", "--data", tmp.resolve("data").toString(), "--vit", tmp.resolve("vit").toString(),
                "--llm", tmp.resolve("small").toString(), "--out", tmp.resolve("beams").toString(), "--epochs", "2", "--batch", "8", "--lr", "1e-3",
                "--threads", "1", "--quiet", "--beams", "3", "--max-new-tokens", "5", "--no-repeat-ngram", "2", "--length-penalty", "0.5",
                "--qformer-config", tmp.resolve("qformer_config.json").toString()));
        Run r = vladapt(a.toArray(new String[0]));
        assertEquals(0, r.code(), r.err());
        String json = Files.readString(tmp.resolve("beams/eval.json"));
        assertTrue(json.contains("captions from BOS: beam 3, length penalty 0.5, 5-5 new tokens, no repeated 2-grams"), json);
        assertTrue(json.contains("beam 3, length penalty 0.5, 1-5 new tokens, no repeated 2-grams"), json);
        a.set(a.indexOf("--beams") + 1, "0");
        Run zero = vladapt(a.toArray(new String[0]));
        assertEquals(2, zero.code(), zero.err());
        assertEquals("vladapt tfs: beams must be >= 1, got 0", zero.err().strip());
        a.set(a.indexOf("--beams") + 1, "2");
        a.addAll(List.of("--min-new-tokens", "6"));
        Run minMax = vladapt(a.toArray(new String[0]));
        assertEquals(2, minMax.code(), minMax.err());
        assertTrue(minMax.err().contains("min new tokens (6) must not exceed max new tokens (5)") && !minMax.err().strip().contains("\n"),
                minMax.err());
    }

    @Test
    void mismatchedPartsFailBeforeTraining() throws Exception {
        // a converter fitted small -> large used to fuse a projector of the large model: named, exit 2
        vladapt("vpgtrans", "fit-converter", "--data", tmp.resolve("data").toString(), "--src-llm", tmp.resolve("small").toString(), "--tgt-llm",
                tmp.resolve("large").toString(), "--out", tmp.resolve("conv2").toString(), "--epochs", "1", "--threads", "1");
        Run src = vladapt(stage("tfs", "large", "large-src", "--qformer-config", tmp.resolve("qformer_config.json").toString()));
        assertEquals(0, src.code(), src.err());
        Run bad = vladapt("vpgtrans", "fuse", "--converter", tmp.resolve("conv2").toString(), "--source-projector",
                tmp.resolve("large-src/projector").toString(), "--tgt-llm", tmp.resolve("large").toString(), "--out", tmp.resolve("x").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("fitted for"), bad.err());
        // a projector for the large LLM used with the small one: refused before any step
        Run wrongLlm = vladapt(stage("stage1", "small", "y", "--vpg", tmp.resolve("large-src/vpg").toString(), "--projector",
                tmp.resolve("large-src/projector").toString()));
        assertEquals(2, wrongLlm.code());
        assertTrue(wrongLlm.err().contains("48-wide LLM"), wrongLlm.err());
        assertTrue(!Files.exists(tmp.resolve("y/train/checkpoint-1")));
    }
}
