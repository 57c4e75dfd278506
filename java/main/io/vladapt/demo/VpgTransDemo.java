package io.vladapt.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.data.SyntheticCaptions;
import io.vladapt.data.SyntheticScene;
import io.vladapt.data.VqaDataset;
import io.vladapt.io.AtomicFiles;
import io.vladapt.io.ClipLoader;
import io.vladapt.nn.ClipVisionConfig;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.train.Plots;
import io.vladapt.train.TrainConfig;
import io.vladapt.train.Trainer;
import io.vladapt.vpg.FrozenLlm;
import io.vladapt.vpg.VlRun;
import io.vladapt.vpg.VlEval;
import io.vladapt.vpg.VlModel;
import io.vladapt.vpg.Vpg;
import io.vladapt.vpg.Projector;
import io.vladapt.vpg.QFormerConfig;
import io.vladapt.vpg.QFormerInit;
import io.vladapt.vpg.QFormerVpg;
import io.vladapt.vpg.Recipe;
import io.vladapt.vpg.SpeedUp;
import io.vladapt.vpg.TokenPairs;
import io.vladapt.vpg.VitFeatures;
import io.vladapt.vpg.VlDataset;
import io.vladapt.vpg.VpgPretrainTask;
import io.vladapt.vpg.VpgTask;
import io.vladapt.vpg.Vpgs;
import io.vladapt.vpg.WordConverter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * `vladapt vpgtrans demo`: VPGTrans against training from scratch (TFS) on an embedded default. A
 * synthetic COCO-captions + VQA v2 dataset, a ViT, and LMs of two sizes pretrained here (cached); an
 * LLM-independent Q-Former initialisation (image-only objective); the source VPG trained on the small
 * LM; then on the large LM: TFS from that same initialisation, TFS from a random VPG, and VPGTrans
 * (converter, fusion, projector warm-up, stage 2). Also one cross-tokenizer transfer (word-level ->
 * BPE LM), with the positional and the character-aligned converter. Prints Table 3's speed-ups.
 */
public final class VpgTransDemo {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Sizes and budgets; {@link #standard} fits the 15-minute budget on 2 cores. */
    public record Options(Path dir, SyntheticCaptions.Spec data, int lmTexts, int srcLmEpochs, int tgtLmEpochs, int srcDim, int srcLayers, int tgtDim,
                          int tgtLayers, int bpeVocab, int bpeDim, int bpeLayers, int bpeLmEpochs, int vitDim, int vitLayers, int vitScenes, int vitEpochs, int queries,
                          int qformerDim, int qformerLayers, int initEpochs, int sourceEpochs, Recipe recipe, int crossEpochs, int converterBatch,
                          boolean crossTokenizer, long seed, boolean quiet) {
        /**
         * The embedded default. Measured on 2 cores (see the README): the LMs need 2-3 epochs of 12,000
         * sequences to read the slot descriptions at all; the converter's SGD batch is 64 captions
         * because the official 4,096 (on ~1M COCO + SBU captions, ~250 steps per epoch) would be one
         * step per epoch on 2,500 captions.
         */
        public static Options standard(Path dir) {
            return new Options(dir, new SyntheticCaptions.Spec(500, 250, 64, 11), 3000, 3, 3, 64, 2, 128, 4, 340, 96, 3, 2, 64, 6, 8000, 8, 12, 64, 2,
                    6, 10, new Recipe(1e-3, 1e-5, 0.5, 10, 32, 1, 5, 0.05, 7), 6, 64, true, 7, false);
        }

        public Options with(boolean cross, boolean q) {
            return new Options(dir, data, lmTexts, srcLmEpochs, tgtLmEpochs, srcDim, srcLayers, tgtDim, tgtLayers, bpeVocab, bpeDim, bpeLayers, bpeLmEpochs, vitDim,
                    vitLayers, vitScenes, vitEpochs, queries, qformerDim, qformerLayers, initEpochs, sourceEpochs, recipe, crossEpochs, converterBatch,
                    cross, seed, q);
        }
    }

    /** One run's per-epoch scores and the training seconds at each epoch's end. */
    record Curve(String label, List<Double> cider, List<Double> vqa, List<Double> seconds, long samples) {
        List<Double> of(String metric) {
            return metric.equals("cider") ? cider : vqa;
        }
    }

    private final Options o;
    private final PrintStream out;
    private final List<String> lines = new ArrayList<>();

    public VpgTransDemo(Options o, PrintStream out) {
        this.o = o;
        this.out = out;
    }

    public void run() throws IOException {
        long t0 = System.nanoTime();
        Path data = o.dir().resolve("data"), runs = o.dir().resolve("run");
        Files.createDirectories(runs);
        out.printf("VLAdapt VPGTrans demo in %s (%s)%n%n", o.dir(), io.vladapt.ext.Threads.describe());
        out.println("synthetic COCO captions + VQA v2:");
        ensureData(data);
        out.println("language models:");
        CaptionLm.Spec src = new CaptionLm.Spec("lm-small", CaptionLm.Tok.WORD, o.srcDim(), o.srcLayers(), o.lmTexts(), o.srcLmEpochs(), 0,
                o.seed() + 100, o.seed());
        CaptionLm.Spec tgt = new CaptionLm.Spec("lm-large", CaptionLm.Tok.WORD, o.tgtDim(), o.tgtLayers(), o.lmTexts(), o.tgtLmEpochs(), 0,
                o.seed() + 100, o.seed() + 1);
        CaptionLm.Spec bpe = new CaptionLm.Spec("lm-mid-bpe", CaptionLm.Tok.BPE, o.bpeDim(), o.bpeLayers(), o.lmTexts(), o.bpeLmEpochs(), o.bpeVocab(),
                o.seed() + 100, o.seed() + 2);
        for (CaptionLm.Spec s : o.crossTokenizer() ? List.of(src, tgt, bpe) : List.of(src, tgt)) {
            CaptionLm.ensure(s, o.dir().resolve(s.name()), o.dir().resolve("work-" + s.name()), o.quiet(), out);
        }
        out.println("vision transformer:");
        ensureVit(data);
        double tPrep = (System.nanoTime() - t0) / 1e9;

        VlDataset d = VlDataset.load(files(data), true);
        List<String> captionCorpus = d.trainCaptions().stream().map(VlDataset.Caption::text).toList();
        out.printf("%ndata: %d training captions, %d training questions; evaluation: %d images (CIDEr-D), %d questions (VQA accuracy)%n",
                d.trainCaptions().size(), d.trainQa().size(), d.evalImages().size(), d.evalQuestions().size());
        Map<String, SpeedUp[]> table = new LinkedHashMap<>();
        List<Curve> curves = new ArrayList<>();
        try (ClipVisionModel vit = ClipLoader.load(o.dir().resolve("vit"), ScalarType.Float)) {
            Path init = o.dir().resolve("vpg-init");
            Tensor features;
            try (QFormerVpg probe = newVpg(vit.config(), 0)) {
                features = VitFeatures.compute(vit, SceneVit.pipeline(vit.config()), d.images(), probe, 64);
            }
            try {
                ensureVpgInit(d, features, vit.config(), init);
                // the source: the LLM-independent VPG trained on the small LM
                Path source = runs.resolve("source");
                try (FrozenLlm s = FrozenLlm.load(o.dir().resolve(src.name()), "small")) {
                    Curve c = trainFrom("source VPG on the small LM (from the LLM-independent init)", s, init, null, features, d, source,
                            o.recipe().withEpochs(o.sourceEpochs()).tfs(source.resolve("train"), o.quiet()));
                    say(String.format("source on small LM: CIDEr %.1f, VQA %.1f after %d epochs", last(c.cider()), last(c.vqa()), c.cider().size()));
                }
                try (FrozenLlm s = FrozenLlm.load(o.dir().resolve(src.name()), "small");
                     FrozenLlm t = FrozenLlm.load(o.dir().resolve(tgt.name()), "large")) {
                    if (Files.mismatch(o.dir().resolve(src.name()).resolve("tokenizer.json"), o.dir().resolve(tgt.name()).resolve("tokenizer.json")) >= 0) {
                        throw new IllegalStateException("the small and large LMs were meant to share one tokenizer, but their tokenizer.json differ");
                    }
                    transfer("small -> large (same tokenizer)", s, t, TokenPairs.sameTokenizer(captionCorpus, s.tok()), features, d, init, source,
                            runs.resolve("large"), true, o.recipe(), table, curves);
                }
                if (o.crossTokenizer()) {
                    try (FrozenLlm s = FrozenLlm.load(o.dir().resolve(src.name()), "small");
                         FrozenLlm t = FrozenLlm.load(o.dir().resolve(bpe.name()), "mid-bpe")) {
                        Curve tfs = transfer("small -> mid-bpe (word -> BPE tokenizer), char-aligned converter", s, t,
                                TokenPairs.charAligned(captionCorpus, s.tok(), t.tok()), features, d, init, source, runs.resolve("bpe"), false,
                                o.recipe().withEpochs(o.crossEpochs()), table, curves);
                        TokenPairs positional = TokenPairs.positional(captionCorpus, s.tok(), t.tok());
                        if (positional.count() == 0) {
                            // the official heuristic needs captions of equal token counts on both sides
                            say(String.format("small -> mid-bpe, positional converter: %d of %d captions have equal token counts on both"
                                    + " sides, so the official heuristic has no pairs to fit (char-aligned kept all %d)", positional.source().size(),
                                    captionCorpus.size(), captionCorpus.size()));
                            table.put("small -> mid-bpe, positional converter | VPGTrans vs TFS", null);
                        } else {
                            out.printf("%n== %s ==%n", "small -> mid-bpe, positional converter");
                            curves.add(vpgTransAgainst("small -> mid-bpe, positional converter", s, t, positional, features, d, source,
                                    runs.resolve("bpe-positional"), tfs, o.recipe().withEpochs(o.crossEpochs()), table));
                        }
                    }
                }
            } finally {
                features.releaseReference();
            }
        }
        double total = (System.nanoTime() - t0) / 1e9;
        out.println();
        lines.forEach(out::println);
        out.println();
        printTable(table);
        out.printf("%nwall time: %.1f s (data + pretraining %.1f s; cached phases take ~0)%n", total, tPrep);
        writeSummary(runs, table, curves, total);
        plot(curves, runs.resolve("vpgtrans_curves.png"));
        out.println("curves: " + runs.resolve("vpgtrans_curves.png") + "; summary: " + runs.resolve("summary.json"));
    }

    // ---------------------------------------------------------------- the experiment
    /** TFS on the target (and, with randomBaseline, from a random VPG), then VPGTrans against it; returns the TFS curve. */
    private Curve transfer(String title, FrozenLlm s, FrozenLlm t, TokenPairs pairs, Tensor features, VlDataset d, Path init, Path source, Path dir,
                           boolean randomBaseline, Recipe recipe, Map<String, SpeedUp[]> table, List<Curve> curves) throws IOException {
        out.printf("%n== %s ==%n", title);
        Curve tfs = trainFrom("TFS on " + t.id().name() + " (LLM-independent init, random projector)", t, init, null, features, d,
                dir.resolve("tfs"), recipe.tfs(dir.resolve("tfs/train"), o.quiet()));
        curves.add(tfs);
        Curve rnd = null;
        if (randomBaseline) {
            rnd = trainFrom("TFS on " + t.id().name() + " (random VPG, random projector)", t, null, null, features, d, dir.resolve("tfs-random"),
                    recipe.tfs(dir.resolve("tfs-random/train"), o.quiet()));
            curves.add(rnd);
        }
        Curve vt = vpgTransAgainst(title, s, t, pairs, features, d, source, dir, tfs, recipe, table);
        curves.add(vt);
        if (rnd != null) {
            table.put(title + " | VPGTrans vs random-VPG TFS", new SpeedUp[] {SpeedUp.of(rnd.cider(), vt.cider()), SpeedUp.of(rnd.vqa(), vt.vqa())});
        }
        return tfs;
    }

    /** A VPGTrans run scored against a TFS curve of the same target: its speed-up row and report. */
    private Curve vpgTransAgainst(String title, FrozenLlm s, FrozenLlm t, TokenPairs pairs, Tensor features, VlDataset d, Path source, Path dir,
                                  Curve tfs, Recipe recipe, Map<String, SpeedUp[]> table) throws IOException {
        Curve vt = vpgTrans(title, s, t, pairs, features, d, source, dir, tfs, recipe);
        table.put(title + " | VPGTrans vs TFS", new SpeedUp[] {SpeedUp.of(tfs.cider(), vt.cider()), SpeedUp.of(tfs.vqa(), vt.vqa())});
        report(tfs, vt);
        return vt;
    }

    private Curve vpgTrans(String title, FrozenLlm s, FrozenLlm t, TokenPairs pairs, Tensor features, VlDataset d, Path source, Path dir, Curve tfs,
                           Recipe recipe) throws IOException {
        long tc = System.nanoTime();
        boolean cross = !pairs.pairing().equals("same-ids");
        WordConverter conv;
        try (org.bytedeco.javacpp.PointerScope sc = new org.bytedeco.javacpp.PointerScope()) {
            conv = WordConverter.fit(s.embeddings(), t.embeddings(), pairs,
                    new WordConverter.Fit(5.0, o.converterBatch(), cross ? 8 : 5, 0), s.id(), t.id(), o.quiet());
        }
        double convSeconds = (System.nanoTime() - tc) / 1e9;
        say(String.format("%s: converter (%s) on %,d token pairs from %d captions (%d dropped), final 1-cos %.4f, %.1f s", title, pairs.pairing(),
                pairs.count(), pairs.source().size(), pairs.dropped(), conv.finalLoss(), convSeconds));
        conv.save(dir.resolve("converter"));
        Projector fused;
        try (Projector sp = Projector.load(source.resolve("projector")); WordConverter c = conv) {
            fused = Projector.fused(c, sp, t.id());
        }
        fused.save(dir.resolve("fused-projector"));
        // before any training: the inherited VPG behind the fused projector (the paper: near-random output)
        try (Vpg v = Vpgs.load(source.resolve("vpg"))) {
            VlEval.Scores z = VlEval.run(new VlModel(t.lm(), t.tok(), v, fused), features, d, 64);
            say(String.format("%s: zero-shot after fusion (no training): CIDEr %.1f, VQA %.1f", title, z.cider(), z.vqa()));
        } finally {
            fused.close();
        }
        // stage 1: the source VPG, the fused projector, only the projector trains, 5x lr, one epoch
        Curve s1 = trainFrom("VPGTrans stage 1 (projector warm-up)", t, source.resolve("vpg"), dir.resolve("fused-projector"), features, d,
                dir.resolve("stage1"), recipe.stage1(dir.resolve("stage1/train"), o.quiet()), VpgTask.Part.PROJECTOR, null);
        // stage 2 from stage 1's result; stops once both datasets have exceeded TFS's best (and 3 epochs are on the curve)
        Predicate<List<Trainer.EvalRecord>> beaten = evals -> {
            List<Double> cider = new ArrayList<>(s1.cider()), vqa = new ArrayList<>(s1.vqa());
            for (Trainer.EvalRecord r : evals) {
                cider.add(r.scores().get("cider"));
                vqa.add(r.scores().get("vqa"));
            }
            return cider.size() >= 3 && !SpeedUp.of(tfs.cider(), cider).never() && !SpeedUp.of(tfs.vqa(), vqa).never();
        };
        Curve s2 = trainFrom("VPGTrans stage 2 (VPG + projector)", t, dir.resolve("stage1/vpg"), dir.resolve("stage1/projector"), features, d,
                dir.resolve("stage2"), recipe.stage2(dir.resolve("stage2/train"), o.quiet()), VpgTask.Part.VPG_AND_PROJECTOR, beaten);
        List<Double> cider = new ArrayList<>(s1.cider()), vqa = new ArrayList<>(s1.vqa()), secs = new ArrayList<>();
        cider.addAll(s2.cider());
        vqa.addAll(s2.vqa());
        double s1end = s1.seconds().get(0) + convSeconds;
        secs.add(s1end);
        for (double x : s2.seconds()) secs.add(s1end + x);
        return new Curve("VPGTrans: " + title, cider, vqa, secs, s1.samples() + s2.samples());
    }

    private Curve trainFrom(String label, FrozenLlm llm, Path vpgDir, Path projectorDir, Tensor features, VlDataset d, Path outDir, TrainConfig tc)
            throws IOException {
        return trainFrom(label, llm, vpgDir, projectorDir, features, d, outDir, tc, VpgTask.Part.VPG_AND_PROJECTOR, null);
    }

    /** Trains a VL model from the given VPG (null: random) and projector (null: random), scoring every epoch. */
    private Curve trainFrom(String label, FrozenLlm llm, Path vpgDir, Path projectorDir, Tensor features, VlDataset d, Path outDir, TrainConfig tc,
                            VpgTask.Part part, Predicate<List<Trainer.EvalRecord>> stop) throws IOException {
        Trainer.deleteOutputs(outDir);
        VlRun.Result r = VlRun.train(llm, vpgDir, () -> newVpg(null, o.seed() + 50), projectorDir, o.seed() + 51, features, d, outDir, tc, part, stop,
                false, label, out);
        out.printf("  %s: CIDEr %s | VQA %s%n", label, fmt(r.cider()), fmt(r.vqa()));
        return new Curve(label, r.cider(), r.vqa(), r.seconds(), r.samples());
    }

    // ---------------------------------------------------------------- the VPG and its LLM-independent init
    private QFormerVpg newVpg(ClipVisionConfig vc, long seed) {
        int vitWidth = vc == null ? o.vitDim() : vc.hiddenSize();
        QFormerConfig c = new QFormerConfig(o.qformerDim(), o.qformerLayers(), 4, 2 * o.qformerDim(), 1, vitWidth, o.queries(), 1e-12, 1e-5, 0.1,
                0.1);
        return new QFormerVpg(QFormerInit.random(c, seed), -1);
    }

    /** Per cell: colour + 1, shape + 1, size (0 empty, 1 small, 2 big). */
    private static long[] labels(SyntheticScene s) {
        long[] l = new long[12];
        for (SyntheticScene.Obj x : s.objects()) {
            l[x.cell()] = x.color() + 1;
            l[4 + x.cell()] = x.shape() + 1;
            l[8 + x.cell()] = x.big() ? 2 : 1;
        }
        return l;
    }

    private static final int[] CLASSES = {7, 7, 7, 7, 4, 4, 4, 4, 3, 3, 3, 3};

    private void ensureVpgInit(VlDataset d, Tensor features, ClipVisionConfig vc, Path init) throws IOException {
        String spec = "vpg-init q=" + o.queries() + " d=" + o.qformerDim() + " layers=" + o.qformerLayers() + " epochs=" + o.initEpochs() + " seed="
                + o.seed() + " data=" + o.data() + " on " + vitSpec();
        Path marker = init.resolve(".spec");
        if (Files.isRegularFile(marker) && Files.readString(marker).equals(spec)) {
            out.println("LLM-independent VPG init: (cached)");
            return;
        }
        Map<Long, SyntheticScene> scenes = SyntheticCaptions.readScenes(o.dir().resolve("data"));
        List<Path> imgs = d.images();
        List<Long> train = new ArrayList<>(), held = new ArrayList<>();
        List<long[]> trainLab = new ArrayList<>(), heldLab = new ArrayList<>();
        java.util.Set<Integer> evalRows = new java.util.HashSet<>();
        d.evalImages().forEach(e -> evalRows.add(e.image()));
        for (int i = 0; i < imgs.size(); i++) {
            long[] l = labels(scenes.get(imageId(imgs.get(i))));
            (evalRows.contains(i) ? held : train).add((long) i);
            (evalRows.contains(i) ? heldLab : trainLab).add(l);
        }
        Tensor tf = features.index_select(0, io.vladapt.nn.Tensors.longs(train.stream().mapToLong(Long::longValue).toArray()));
        Tensor hf = features.index_select(0, io.vladapt.nn.Tensors.longs(held.stream().mapToLong(Long::longValue).toArray()));
        Trainer.deleteOutputs(init);
        try (QFormerVpg vpg = newVpg(vc, o.seed() + 40)) {
            VpgPretrainTask task = new VpgPretrainTask(vpg, tf, trainLab.toArray(new long[0][]), CLASSES, o.seed());
            TrainConfig tc = new TrainConfig(o.initEpochs(), 32, 1, 0.08, 0.5, 0.01, 1.0, o.seed(), 0, 1, o.dir().resolve("work-vpg-init"), o.quiet());
            long t = System.nanoTime();
            List<Trainer.Metric> m = new Trainer(task, tc).run(false, -1);
            out.printf("LLM-independent VPG init (image-only: each cell's colour, shape, size from the queries): loss %.3f -> %.3f, held-out"
                    + " slot accuracy %.1f%%, %.1f s%n", m.get(0).loss(), m.get(m.size() - 1).loss(),
                    100 * task.accuracy(hf, heldLab.toArray(new long[0][])), (System.nanoTime() - t) / 1e9);
            task.closeHead();
            vpg.params().asMap().values().forEach(p -> p.set_requires_grad(false));
            vpg.save(init);
        }
        AtomicFiles.writeString(marker, spec);
    }

    /** COCO_train2014_000000000042.jpg -> 42. */
    private static long imageId(Path p) {
        String n = p.getFileName().toString();
        return Long.parseLong(n.substring(n.lastIndexOf('_') + 1, n.lastIndexOf('.')));
    }

    // ---------------------------------------------------------------- cached data and ViT
    static VlDataset.Files files(Path data) {
        Path images = SyntheticCaptions.imageRoot(data);
        String va = SyntheticCaptions.VAL;
        // as in the paper: the VL model trains on captions only, and VQA is evaluated zero-shot
        return new VlDataset.Files(data.resolve("dataset_coco.json"), images, "train", false, "val", null, null, null,
                data.resolve(VqaDataset.questionsFileName(va)), data.resolve(VqaDataset.annotationsFileName(va)), SyntheticCaptions.imageDir(data, va));
    }

    private void ensureData(Path data) throws IOException {
        Path marker = data.resolve(".spec");
        if (Files.isRegularFile(marker) && Files.readString(marker).equals(o.data().toString())) {
            out.println("  (cached)");
            return;
        }
        Trainer.deleteOutputs(data);
        SyntheticCaptions.Counts c = SyntheticCaptions.write(data, o.data());
        AtomicFiles.writeString(marker, o.data().toString());
        out.printf("  %s%n", c);
    }

    private String vitSpec() {
        return "vit d=" + o.vitDim() + " layers=" + o.vitLayers() + " scenes=" + o.vitScenes() + " epochs=" + o.vitEpochs() + " seed=" + o.seed();
    }

    private void ensureVit(Path data) throws IOException {
        Path vitDir = o.dir().resolve("vit"), marker = vitDir.resolve(".spec");
        String spec = vitSpec();
        if (Files.isRegularFile(marker) && Files.readString(marker).equals(spec)) {
            out.println("  (cached)");
            return;
        }
        ClipVisionConfig c = new ClipVisionConfig(o.vitDim(), 2 * o.vitDim(), o.vitLayers(), 4, 32, 8, 3, "quick_gelu", 1e-5);
        try (SceneVit.Images train = new SceneVit.Images(); SceneVit.Images test = new SceneVit.Images()) {
            train.addRandomScenes(SceneVit.pipeline(c), o.vitScenes(), o.data().imageSize(), o.seed() + 1);
            test.addRandomScenes(SceneVit.pipeline(c), 300, o.data().imageSize(), o.seed() + 2);
            SceneVit.pretrain(c, train, test, o.vitEpochs(), o.seed(), vitDir, o.dir().resolve("work-vit"), o.quiet(), out);
        }
        AtomicFiles.writeString(marker, spec);
    }

    // ---------------------------------------------------------------- output
    private void report(Curve tfs, Curve vt) {
        say(String.format("  TFS   CIDEr %s | VQA %s", fmt(tfs.cider()), fmt(tfs.vqa())));
        say(String.format("  VPGTr CIDEr %s | VQA %s", fmt(vt.cider()), fmt(vt.vqa())));
        SpeedUp c = SpeedUp.of(tfs.cider(), vt.cider());
        if (!c.never()) {
            double ts = tfs.seconds().get(c.tfsEpoch() - 1), vs = vt.seconds().get(c.vtEpoch() - 1);
            say(String.format("  captions: TFS best %.1f at epoch %d (%.0f s of training); VPGTrans exceeds it at epoch %d (%.0f s incl. converter):"
                    + " %.1fx epochs, %.1fx wall time", c.best(), c.tfsEpoch(), ts, c.vtEpoch(), vs, c.ratio(), ts / vs));
        }
    }

    private void say(String s) {
        lines.add(s);
        if (!o.quiet()) out.println(s);
    }

    private void printTable(Map<String, SpeedUp[]> table) {
        out.println("Speed-up (Table 3: epochs TFS needs for its best / first epoch VPGTrans exceeds it; stage 1 = epoch 1):");
        out.printf("%-92s %-26s %-26s%n", "transfer", "captions (CIDEr-D)", "VQA (accuracy)");
        table.forEach((k, v) -> out.printf("%-92s %-26s %-26s%n", k, v == null ? "not run (no pairs)" : cell(v[0]),
                v == null ? "not run (no pairs)" : cell(v[1])));
    }

    private static String cell(SpeedUp s) {
        return String.format("%s (%.1f@%d -> @%s)", s.label(), s.best(), s.tfsEpoch(), s.never() ? "-" : Integer.toString(s.vtEpoch()));
    }

    private static String fmt(List<Double> xs) {
        StringBuilder b = new StringBuilder();
        for (double x : xs) b.append(String.format("%6.1f", x));
        return b.toString();
    }

    private static double last(List<Double> xs) {
        return xs.isEmpty() ? Double.NaN : xs.get(xs.size() - 1);
    }

    private void writeSummary(Path runs, Map<String, SpeedUp[]> table, List<Curve> curves, double total) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("wall_seconds", total);
        root.put("options", o.toString());
        ObjectNode t = root.putObject("speedup");
        table.forEach((k, v) -> {
            ObjectNode row = t.putObject(k);
            if (v == null) return;
            row.set("captions_cider", JSON.valueToTree(v[0]));
            row.set("vqa_accuracy", JSON.valueToTree(v[1]));
        });
        ObjectNode cs = root.putObject("curves");
        for (Curve c : curves) cs.set(c.label(), JSON.valueToTree(c));
        root.set("notes", JSON.valueToTree(lines));
        AtomicFiles.writeString(runs.resolve("summary.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
    }

    private static void plot(List<Curve> curves, Path png) throws IOException {
        List<org.knowm.xchart.XYChart> charts = new ArrayList<>();
        for (String metric : List.of("cider", "vqa")) {
            org.knowm.xchart.XYChart ch = new org.knowm.xchart.XYChartBuilder().width(900).height(420)
                    .title(metric.equals("cider") ? "captions: CIDEr-D per epoch" : "VQA accuracy per epoch").xAxisTitle("epoch (VPGTrans: stage 1 = 1)")
                    .yAxisTitle(metric.equals("cider") ? "CIDEr-D" : "accuracy %").build();
            for (Curve c : curves) {
                List<Double> ys = c.of(metric);
                if (ys.isEmpty()) continue;
                double[] x = new double[ys.size()];
                for (int i = 0; i < x.length; i++) x[i] = i + 1;
                ch.addSeries(c.label().length() > 70 ? c.label().substring(0, 70) : c.label(), x, ys.stream().mapToDouble(Double::doubleValue).toArray());
            }
            charts.add(ch);
        }
        Plots.save(png, charts);
    }
}
