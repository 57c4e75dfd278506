package io.vladapt.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.api.Preprocess;
import io.vladapt.api.VpgTransfer;
import io.vladapt.data.SyntheticCaptions;
import io.vladapt.data.SyntheticScene;
import io.vladapt.data.VqaDataset;
import io.vladapt.io.AtomicFiles;
import io.vladapt.nn.ClipVisionConfig;
import io.vladapt.train.TrainConfig;
import io.vladapt.train.Trainer;
import io.vladapt.vpg.MultiSeedSpeedUp;
import io.vladapt.vpg.QFormerConfig;
import io.vladapt.vpg.QFormerInit;
import io.vladapt.vpg.QFormerVpg;
import io.vladapt.vpg.Recipe;
import io.vladapt.vpg.SeedCurvesPlot;
import io.vladapt.vpg.SpeedUp;
import io.vladapt.vpg.VlDataset;
import io.vladapt.vpg.VpgContrastiveTask;
import io.vladapt.vpg.VpgInit;
import io.vladapt.vpg.VpgPretrainTask;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * `vladapt vpgtrans demo`: VPGTrans against training from scratch (TFS) on an embedded default. A
 * synthetic COCO-captions + VQA v2 dataset, a ViT, and LMs of two sizes pretrained here (cached); then,
 * per seed (VPG init, data order, dropout): an LLM-independent Q-Former initialisation (image-only
 * objective), the source VPG trained from it on the small LM, and on the large LM: TFS from that same
 * initialisation, TFS from a random VPG, and VPGTrans (converter, fusion, projector warm-up, stage 2).
 * Also one cross-tokenizer transfer (word-level -> BPE LM), with the positional and the
 * character-aligned converter. Prints Table 3's speed-ups per seed with their median and two
 * noise-robust measures. Every stage is a {@link VpgTransfer} call; this class makes the data, the
 * models and the initialisation, and prints.
 */
public final class VpgTransDemo {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Sizes and budgets; {@link #standard} fits the 15-minute budget on 2 cores with one seed. */
    public record Options(Path dir, SyntheticCaptions.Spec data, int lmTexts, int srcLmEpochs, int tgtLmEpochs, int srcDim, int srcLayers, int tgtDim,
                          int tgtLayers, int bpeVocab, int bpeDim, int bpeLayers, int bpeLmEpochs, int vitDim, int vitLayers, int vitScenes, int vitEpochs, int queries,
                          int qformerDim, int qformerLayers, int initEpochs, int sourceEpochs, Recipe recipe, int crossEpochs, int converterBatch,
                          boolean crossTokenizer, long seed, boolean quiet, int seeds, String init) {
        /**
         * The embedded default. Measured on 2 cores (see the README): the LMs need 2-3 epochs of 12,000
         * sequences to read the slot descriptions at all; the converter's SGD batch is 64 captions
         * because the official 4,096 (on ~1M COCO + SBU captions, ~250 steps per epoch) would be one
         * step per epoch on 2,500 captions.
         */
        public static Options standard(Path dir) {
            return new Options(dir, new SyntheticCaptions.Spec(500, 250, 64, 11), 3000, 3, 3, 64, 2, 128, 4, 340, 96, 3, 2, 64, 6, 8000, 8, 12, 64, 2,
                    6, 10, new Recipe(1e-3, 1e-5, 0.5, 10, 32, 1, 5, 0.05, 7), 6, 64, true, 7, false, 3, "attributes");
        }

        public Options with(boolean cross, boolean q) {
            return new Options(dir, data, lmTexts, srcLmEpochs, tgtLmEpochs, srcDim, srcLayers, tgtDim, tgtLayers, bpeVocab, bpeDim, bpeLayers, bpeLmEpochs, vitDim,
                    vitLayers, vitScenes, vitEpochs, queries, qformerDim, qformerLayers, initEpochs, sourceEpochs, recipe, crossEpochs, converterBatch,
                    cross, seed, q, seeds, init);
        }

        /** Runs seeds seed, seed + 1, ..., seed + n - 1 (seed = the recipe's for the first). */
        public Options withSeeds(int n) {
            if (n < 1) throw new IllegalArgumentException("--seeds must be at least 1, got " + n);
            return new Options(dir, data, lmTexts, srcLmEpochs, tgtLmEpochs, srcDim, srcLayers, tgtDim, tgtLayers, bpeVocab, bpeDim, bpeLayers, bpeLmEpochs, vitDim,
                    vitLayers, vitScenes, vitEpochs, queries, qformerDim, qformerLayers, initEpochs, sourceEpochs, recipe, crossEpochs, converterBatch,
                    crossTokenizer, seed, quiet, n, init);
        }

        /**
         * The LLM-independent initialisation: "attributes" (the Q-Former predicts each cell's colour, shape and size) or
         * "contrastive" (image-text contrastive on the training captions, BLIP-2 stage 1 style; runs go to run-contrastive/).
         */
        public Options withInit(String kind) {
            if (!kind.equals("attributes") && !kind.equals("contrastive")) {
                throw new IllegalArgumentException("the VPG init must be attributes or contrastive, got '" + kind + "'");
            }
            return new Options(dir, data, lmTexts, srcLmEpochs, tgtLmEpochs, srcDim, srcLayers, tgtDim, tgtLayers, bpeVocab, bpeDim, bpeLayers, bpeLmEpochs, vitDim,
                    vitLayers, vitScenes, vitEpochs, queries, qformerDim, qformerLayers, initEpochs, sourceEpochs, recipe, crossEpochs, converterBatch,
                    crossTokenizer, seed, quiet, seeds, kind);
        }

        /** Everything that shapes a seed's runs (not the number of seeds). */
        String runSpec() {
            return with(crossTokenizer, false).withSeeds(1).toString();
        }
    }

    /** One run's per-epoch scores of one seed. */
    record Curve(String run, long seed, VpgTransfer.Curve c) {}

    /** A table row: the comparison's per-seed curves (TFS, VPGTrans). */
    record Row(List<VpgTransfer.SeedRun> runs, String missing) {}

    private final Options o;
    private final PrintStream out;
    private final List<String> lines = new ArrayList<>();

    public VpgTransDemo(Options o, PrintStream out) {
        this.o = o;
        this.out = out;
    }

    public void run() throws IOException {
        long t0 = System.nanoTime();
        Path data = o.dir().resolve("data"), runs = o.dir().resolve(o.init().equals("attributes") ? "run" : "run-" + o.init());
        Files.createDirectories(runs);
        out.printf("VLAdapt VPGTrans demo in %s (%s), %d seed%s, %s VPG init%n%n", o.dir(), io.vladapt.ext.Threads.describe(), o.seeds(),
                o.seeds() == 1 ? "" : "s", o.init());
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
        Path small = o.dir().resolve(src.name()), large = o.dir().resolve(tgt.name()), mid = o.dir().resolve(bpe.name());
        if (Files.mismatch(small.resolve("tokenizer.json"), large.resolve("tokenizer.json")) >= 0) {
            throw new IllegalStateException("the small and large LMs were meant to share one tokenizer, but their tokenizer.json differ");
        }

        Map<String, Row> table = new LinkedHashMap<>();
        Map<String, List<Curve>> curves = new LinkedHashMap<>();
        // the demo's ViT was pretrained on squashed 32-px scenes: its own (LaVIN-style) preprocessing, not CLIP's crop
        VpgTransfer.Options vo = VpgTransfer.Options.defaults().preprocess(Preprocess.LAVIN).resume(true).quiet(o.quiet()).log(out)
                .dtype("float32");                                               // the demo's table is a float32 result on every CPU
        try (VpgTransfer vt = VpgTransfer.open(files(data), o.dir().resolve("vit"), vo)) {
            VlDataset d = vt.dataset();
            out.printf("%ndata: %d training captions, %d training questions; evaluation: %d images (CIDEr-D), %d questions (VQA accuracy)%n",
                    d.trainCaptions().size(), d.trainQa().size(), d.evalImages().size(), d.evalQuestions().size());
            for (int k = 0; k < o.seeds(); k++) {
                long seed = o.seed() + k;
                out.printf("%n######## seed %d%n", seed);
                Path dir = seedFolder(runs, seed);
                Recipe recipe = o.recipe().withSeed(seed);
                Path init = ensureVpgInit(vt, seed);
                // the source: the LLM-independent VPG trained on the small LM
                Path source = dir.resolve("source");
                VpgTransfer.Curve sc = vt.tfs(small, VpgInit.weights(init), recipe.withEpochs(o.sourceEpochs()), source,
                        "source VPG on the small LM (from the LLM-independent init)");
                say(seed, String.format("source on small LM: CIDEr %.1f, VQA %.1f after %d epochs", last(sc.cider()), last(sc.vqa()), sc.cider().size()));
                String title = "small -> large (same tokenizer)";
                out.printf("%n== %s, seed %d ==%n", title, seed);
                VpgTransfer.Curve tfs = vt.tfs(large, VpgInit.weights(init), recipe, dir.resolve("large/tfs"),
                        "TFS on the large LM (LLM-independent init, random projector)");
                VpgTransfer.Curve rnd = vt.tfs(large, VpgInit.randomLike(init), recipe, dir.resolve("large/tfs-random"),
                        "TFS on the large LM (random VPG, random projector)");
                VpgTransfer.Curve vpgt = vpgTrans(vt, title, seed, small, large, "same-ids", source, dir.resolve("large"), tfs, recipe);
                add(curves, title, seed, "TFS (init)", tfs, "TFS (random VPG)", rnd, "VPGTrans", vpgt);
                row(table, title + " | VPGTrans vs TFS", seed, tfs, vpgt);
                row(table, title + " | VPGTrans vs random-VPG TFS", seed, rnd, vpgt);
                if (o.crossTokenizer()) {
                    Recipe cr = recipe.withEpochs(o.crossEpochs());
                    String ct = "small -> mid-bpe (word -> BPE tokenizer), char-aligned converter";
                    out.printf("%n== %s, seed %d ==%n", ct, seed);
                    VpgTransfer.Curve ctfs = vt.tfs(mid, VpgInit.weights(init), cr, dir.resolve("bpe/tfs"),
                            "TFS on the mid-bpe LM (LLM-independent init, random projector)");
                    VpgTransfer.Curve cvt = vpgTrans(vt, ct, seed, small, mid, "char-aligned", source, dir.resolve("bpe"), ctfs, cr);
                    add(curves, "small -> mid-bpe", seed, "TFS (init)", ctfs, "VPGTrans char-aligned", cvt, null, null);
                    row(table, ct + " | VPGTrans vs TFS", seed, ctfs, cvt);
                    String pt = "small -> mid-bpe, positional converter";
                    long pairs = vt.pairCount(small, mid, "positional");
                    if (pairs == 0) {
                        // the official heuristic needs captions of equal token counts on both sides
                        if (k == 0) {
                            say(seed, String.format("%s: no caption of %d has equal token counts on both sides, so the official heuristic has"
                                    + " no pairs to fit (char-aligned kept all of them)", pt, d.trainCaptions().size()));
                        }
                        table.put(pt, new Row(List.of(), "not run (no pairs)"));
                    } else {
                        out.printf("%n== %s, seed %d ==%n", pt, seed);
                        VpgTransfer.Curve pvt = vpgTrans(vt, pt, seed, small, mid, "positional", source, dir.resolve("bpe-positional"), ctfs, cr);
                        add(curves, "small -> mid-bpe", seed, "VPGTrans positional", pvt, null, null, null, null);
                        row(table, pt + " | VPGTrans vs TFS", seed, ctfs, pvt);
                    }
                }
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
        out.println("curves (every seed): " + runs.resolve("vpgtrans_curves.png") + "; summary: " + runs.resolve("summary.json"));
    }

    // ---------------------------------------------------------------- the experiment
    /**
     * A seed's run folder; emptied when it was made with other settings or another thread count (float summation order
     * differs, so its finished stages must not be read back as this run's).
     */
    private Path seedFolder(Path runs, long seed) throws IOException {
        Path dir = runs.resolve("seed-" + seed), marker = dir.resolve(".spec");
        String spec = o.runSpec() + " seed=" + seed + " " + io.vladapt.ext.Threads.describe();
        if (!Files.isRegularFile(marker) || !Files.readString(marker).equals(spec)) {
            Trainer.deleteOutputs(dir);
            Files.createDirectories(dir);
            AtomicFiles.writeString(marker, spec);
        }
        return dir;
    }

    /** VPGTrans from the source run to {@code tgt}, stage 2 stopped once it beats {@code tfs}: the curve, with its notes. */
    private VpgTransfer.Curve vpgTrans(VpgTransfer vt, String title, long seed, Path src, Path tgt, String pairing, Path source, Path dir,
                                       VpgTransfer.Curve tfs, Recipe recipe) throws IOException {
        VpgTransfer.Converter c = new VpgTransfer.Converter(pairing, 5.0, o.converterBatch(), 0, 0);
        VpgTransfer.Transfer t = vt.transfer(src, tgt, source, c, recipe, dir, tfs);
        VpgTransfer.ConverterFit f = t.converter();
        say(seed, String.format("%s: converter (%s) on %,d token pairs from %d captions (%d dropped), final 1-cos %.4f, %.1f s", title, f.pairing(),
                f.pairs(), f.captions(), f.dropped(), f.finalLoss(), f.seconds()));
        // before any training: the inherited VPG behind the fused projector (the paper: near-random output)
        say(seed, String.format("%s: zero-shot after fusion (no training): CIDEr %.1f, VQA %.1f", title, t.zeroShotCider(), t.zeroShotVqa()));
        report(seed, tfs, t.curve());
        return t.curve();
    }

    private static void add(Map<String, List<Curve>> curves, String transfer, long seed, String n1, VpgTransfer.Curve c1, String n2,
                            VpgTransfer.Curve c2, String n3, VpgTransfer.Curve c3) {
        List<Curve> l = curves.computeIfAbsent(transfer, k -> new ArrayList<>());
        l.add(new Curve(n1, seed, c1));
        if (n2 != null) l.add(new Curve(n2, seed, c2));
        if (n3 != null) l.add(new Curve(n3, seed, c3));
    }

    private static void row(Map<String, Row> table, String name, long seed, VpgTransfer.Curve tfs, VpgTransfer.Curve vt) {
        Row r = table.computeIfAbsent(name, k -> new Row(new ArrayList<>(), null));
        r.runs().add(new VpgTransfer.SeedRun(seed, tfs, vt));
    }

    // ---------------------------------------------------------------- the VPG and its LLM-independent init
    private QFormerConfig qformerConfig(int vitWidth) {
        return new QFormerConfig(o.qformerDim(), o.qformerLayers(), 4, 2 * o.qformerDim(), 1, vitWidth, o.queries(), 1e-12, 1e-5, 0.1, 0.1);
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

    /** The seed's LLM-independent VPG initialisation (cached): the Q-Former trained to tell each cell's colour, shape and size. */
    private Path ensureVpgInit(VpgTransfer vt, long seed) throws IOException {
        Path init = o.dir().resolve(o.init().equals("attributes") ? "vpg-init-seed-" + seed : "vpg-init-" + o.init() + "-seed-" + seed);
        String spec = "vpg-init " + o.init() + " q=" + o.queries() + " d=" + o.qformerDim() + " layers=" + o.qformerLayers() + " epochs=" + o.initEpochs() + " seed="
                + seed + " data=" + o.data() + " on " + vitSpec();
        Path marker = init.resolve(".spec");
        if (Files.isRegularFile(marker) && Files.readString(marker).equals(spec)) {
            out.println("LLM-independent VPG init: (cached)");
            return init;
        }
        VlDataset d = vt.dataset();
        int vitWidth = vt.vit().config().hiddenSize();
        Tensor features = vt.features(VpgInit.random(qformerConfig(vitWidth), -1));
        if (o.init().equals("contrastive")) return contrastiveInit(vt, seed, init, features, vitWidth, marker, spec);
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
        Trainer.deleteOutputs(init);
        try (org.bytedeco.javacpp.PointerScope sc = new org.bytedeco.javacpp.PointerScope();
             QFormerVpg vpg = new QFormerVpg(QFormerInit.random(qformerConfig(vitWidth), seed + 40), -1)) {
            Tensor tf = features.index_select(0, io.vladapt.nn.Tensors.longs(train.stream().mapToLong(Long::longValue).toArray()));
            Tensor hf = features.index_select(0, io.vladapt.nn.Tensors.longs(held.stream().mapToLong(Long::longValue).toArray()));
            VpgPretrainTask task = new VpgPretrainTask(vpg, tf, trainLab.toArray(new long[0][]), CLASSES, seed);
            TrainConfig tc = new TrainConfig(o.initEpochs(), 32, 1, 0.08, 0.5, 0.01, 1.0, seed, 0, 1, o.dir().resolve("work-vpg-init"), o.quiet());
            long t = System.nanoTime();
            List<Trainer.Metric> m = new Trainer(task, tc).run(false, -1);
            out.printf("LLM-independent VPG init, seed %d (image-only: each cell's colour, shape, size from the queries): loss %.3f -> %.3f, held-out"
                    + " slot accuracy %.1f%%, %.1f s%n", seed, m.get(0).loss(), m.get(m.size() - 1).loss(),
                    100 * task.accuracy(hf, heldLab.toArray(new long[0][])), (System.nanoTime() - t) / 1e9);
            task.closeHead();
            vpg.params().asMap().values().forEach(p -> p.set_requires_grad(false));
            vpg.save(init);
        }
        AtomicFiles.writeString(marker, spec);
        return init;
    }

    /** BLIP-2-stage-1-like: the Q-Former learns image-text contrast on the training captions (no LLM). */
    private Path contrastiveInit(VpgTransfer vt, long seed, Path init, Tensor features, int vitWidth, Path marker, String spec) throws IOException {
        VlDataset d = vt.dataset();
        Trainer.deleteOutputs(init);
        try (org.bytedeco.javacpp.PointerScope sc = new org.bytedeco.javacpp.PointerScope();
             QFormerVpg vpg = new QFormerVpg(QFormerInit.random(qformerConfig(vitWidth), seed + 40), -1)) {
            VpgContrastiveTask task = new VpgContrastiveTask(vpg, features, d.trainCaptions(), 1024, 64, 0.07, seed);
            long[] held = d.evalImages().stream().mapToLong(VlDataset.EvalImage::image).toArray();
            List<String> heldText = d.evalImages().stream().map(e -> e.references().get(0)).toList();
            double before = task.recallAt1(held, heldText);
            TrainConfig tc = new TrainConfig(o.initEpochs(), 32, 1, 0.08, 0.5, 0.01, 1.0, seed, 0, 1, o.dir().resolve("work-vpg-init"), o.quiet());
            long t = System.nanoTime();
            List<Trainer.Metric> m = new Trainer(task, tc).run(false, -1);
            out.printf("LLM-independent VPG init, seed %d (image-text contrastive on the training captions): loss %.3f -> %.3f, held-out image ->"
                    + " caption recall@1 %.1f%% -> %.1f%% of %d, %.1f s%n", seed, m.get(0).loss(), m.get(m.size() - 1).loss(), 100 * before,
                    100 * task.recallAt1(held, heldText), held.length, (System.nanoTime() - t) / 1e9);
            task.closeHeads();
            vpg.params().asMap().values().forEach(p -> p.set_requires_grad(false));
            vpg.save(init);
        }
        AtomicFiles.writeString(marker, spec);
        return init;
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
    private void report(long seed, VpgTransfer.Curve tfs, VpgTransfer.Curve vt) {
        say(seed, String.format("  TFS   CIDEr %s | VQA %s", fmt(tfs.cider()), fmt(tfs.vqa())));
        say(seed, String.format("  VPGTr CIDEr %s | VQA %s", fmt(vt.cider()), fmt(vt.vqa())));
        SpeedUp c = SpeedUp.of(tfs.cider(), vt.cider());
        if (!c.never()) {
            double ts = tfs.seconds().get(c.tfsEpoch() - 1), vs = vt.seconds().get(c.vtEpoch() - 1);
            say(seed, String.format("  captions: TFS best %.1f at epoch %d (%.0f s of training); VPGTrans exceeds it at epoch %d (%.0f s incl."
                    + " converter): %.1fx epochs, %.1fx wall time", c.best(), c.tfsEpoch(), ts, c.vtEpoch(), vs, c.ratio(), ts / vs));
        }
    }

    private void say(long seed, String s) {
        String line = (o.seeds() > 1 ? "[seed " + seed + "] " : "") + s;
        lines.add(line);
        if (!o.quiet()) out.println(line);
    }

    private void printTable(Map<String, Row> table) {
        List<Long> seeds = new ArrayList<>();
        for (int k = 0; k < o.seeds(); k++) seeds.add(o.seed() + k);
        out.println("Speed-up per seed " + seeds + " -> median (Table 3: epochs TFS needs for its best / first epoch VPGTrans exceeds it;"
                + " stage 1 = epoch 1):");
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"transfer", "captions (CIDEr-D)", "VQA (accuracy)"});
        table.forEach((k, r) -> rows.add(new String[] {k, r.missing() != null ? r.missing() : table3(r, "cider"),
                r.missing() != null ? r.missing() : table3(r, "vqa")}));
        printColumns(rows);
        out.printf("%nNoise-robust, per seed -> median: epochs to reach 95%% of TFS's best (TFS's / VPGTrans'), and the area under VPGTrans'"
                + " curve / under TFS's (over the epochs both ran):%n");
        rows.clear();
        rows.add(new String[] {"transfer", "captions: 95%", "captions: area", "VQA: 95%", "VQA: area"});
        table.forEach((k, r) -> {
            if (r.missing() == null) rows.add(new String[] {k, reach(r, "cider"), area(r, "cider"), reach(r, "vqa"), area(r, "vqa")});
        });
        printColumns(rows);
        out.println();
        table.forEach((k, r) -> {
            if (r.missing() != null) return;
            out.println(k + ":");
            VpgTransfer.speedUp(r.runs(), "cider").lines("  captions (CIDEr-D)").forEach(out::println);
            VpgTransfer.speedUp(r.runs(), "vqa").lines("  VQA (accuracy)").forEach(out::println);
        });
    }

    /** Rows of cells, each column as wide as its widest cell. */
    private void printColumns(List<String[]> rows) {
        int[] w = new int[rows.get(0).length];
        for (String[] r : rows) for (int i = 0; i < r.length; i++) w[i] = Math.max(w[i], r[i].length());
        for (String[] r : rows) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < r.length; i++) b.append(String.format("%-" + (w[i] + 3) + "s", r[i]));
            out.println(b.toString().stripTrailing());
        }
    }

    private static String reach(Row r, String metric) {
        MultiSeedSpeedUp m = VpgTransfer.speedUp(r.runs(), metric);
        StringBuilder b = new StringBuilder();
        for (MultiSeedSpeedUp.Seed s : m.seeds()) b.append(s.reach().label()).append(' ');
        return b.append("-> ").append(SpeedUp.label(m.medianReach())).toString();
    }

    private static String area(Row r, String metric) {
        MultiSeedSpeedUp m = VpgTransfer.speedUp(r.runs(), metric);
        StringBuilder b = new StringBuilder();
        for (MultiSeedSpeedUp.Seed s : m.seeds()) b.append(String.format("%.2f ", s.areaRatio()));
        return b.append(String.format("-> %.2f", m.medianArea())).toString();
    }

    private static String table3(Row r, String metric) {
        MultiSeedSpeedUp m = VpgTransfer.speedUp(r.runs(), metric);
        if (m.seeds().size() == 1) return cell(m.seeds().get(0).table3());
        StringBuilder b = new StringBuilder();
        for (MultiSeedSpeedUp.Seed s : m.seeds()) b.append(s.table3().label()).append(' ');
        return b.append("-> ").append(SpeedUp.label(m.medianTable3())).toString();
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

    private void writeSummary(Path runs, Map<String, Row> table, Map<String, List<Curve>> curves, double total) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("wall_seconds", total);
        root.put("options", o.toString());
        ObjectNode t = root.putObject("speedup");
        table.forEach((k, r) -> {
            ObjectNode row = t.putObject(k);
            if (r.missing() != null) {
                row.put("not_run", r.missing());
                return;
            }
            for (String metric : List.of("cider", "vqa")) {
                MultiSeedSpeedUp m = VpgTransfer.speedUp(r.runs(), metric);
                ObjectNode x = row.putObject(metric.equals("cider") ? "captions_cider" : "vqa_accuracy");
                x.set("per_seed", JSON.valueToTree(m.seeds()));
                x.put("median_table3", m.medianTable3());
                x.put("median_reach95", m.medianReach());
                x.put("median_area_ratio", m.medianArea());
            }
        });
        ObjectNode cs = root.putObject("curves");
        curves.forEach((transfer, list) -> {
            ObjectNode tr = cs.putObject(transfer);
            for (Curve c : list) tr.set(c.run() + " seed " + c.seed(), JSON.valueToTree(c.c()));
        });
        root.set("notes", JSON.valueToTree(lines));
        AtomicFiles.writeString(runs.resolve("summary.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
    }

    private static void plot(Map<String, List<Curve>> curves, Path png) throws IOException {
        Map<String, List<SeedCurvesPlot.Series>> rows = new LinkedHashMap<>();
        curves.forEach((transfer, list) -> rows.put(transfer,
                list.stream().map(c -> new SeedCurvesPlot.Series(c.run(), c.seed(), c.c().cider(), c.c().vqa())).toList()));
        SeedCurvesPlot.write(png, rows);
    }
}
