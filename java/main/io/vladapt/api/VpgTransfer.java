package io.vladapt.api;

import io.vladapt.ext.Threads;
import io.vladapt.ext.VlOps;
import io.vladapt.io.ClipLoader;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.quant.QuantScheme;
import io.vladapt.vpg.FrozenLlm;
import io.vladapt.vpg.MultiSeedSpeedUp;
import io.vladapt.vpg.Recipe;
import io.vladapt.vpg.VitFeatures;
import io.vladapt.vpg.VlDataset;
import io.vladapt.vpg.VlEval;
import io.vladapt.vpg.VlDecoding;
import io.vladapt.vpg.VlRun;
import io.vladapt.vpg.Vpg;
import io.vladapt.vpg.VpgInit;
import io.vladapt.vpg.VpgTransStages;
import io.vladapt.vpg.Vpgs;
import io.vladapt.vpg.transfer.WordConverter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * VPGTrans as library calls: move a visual prompt generator (VPG) and its projector from one frozen LLM
 * to another, one method per stage, and measure the speed-up against training from scratch (TFS).
 * A session holds one dataset and one frozen ViT; LLM folders and ViT features are loaded once and
 * shared by every stage of the session. Every training stage writes a folder (checkpoints,
 * {@code train/eval.jsonl} with CIDEr-D and VQA accuracy per epoch, then {@code vpg/}, {@code projector/},
 * {@code eval.json} and {@code stage.json}); with {@link Options#resume} a finished stage is read back, a
 * killed one continues, and one made from other inputs is refused. The recipe's seed sets the data
 * order, dropout and any fresh VPG or projector, so one seed gives one curve.
 *
 * <pre>{@code
 * try (VpgTransfer vt = VpgTransfer.open(files, Path.of("clip-vit-l-14"), VpgTransfer.Options.defaults())) {
 *     Recipe r = new Recipe(1e-4, 1e-5, 0.5, 10, 32, 1, 5, 0.05, 0);
 *     vt.fitConverter(src, tgt, VpgTransfer.Converter.official(), runs.resolve("conv"));
 *     vt.fuse(runs.resolve("conv"), source.resolve("projector"), tgt, runs.resolve("fused"));
 *     VpgTransfer.Curve s1 = vt.stage1(tgt, source.resolve("vpg"), runs.resolve("fused"), r, runs.resolve("s1"));
 *     VpgTransfer.Curve s2 = vt.stage2(tgt, runs.resolve("s1"), r, runs.resolve("s2"));
 *     VpgTransfer.Curve tfs = vt.tfs(tgt, VpgInit.weights(init), r, runs.resolve("tfs"));
 *     MultiSeedSpeedUp cider = VpgTransfer.speedUp(List.of(new VpgTransfer.SeedRun(0, tfs, s1.then(s2))), "cider");
 * }
 * }</pre>
 */
public final class VpgTransfer implements AutoCloseable {
    /** Per-epoch scores of a stage or of a chain of stages (index 0 = after epoch 1), training seconds at each epoch's end. */
    public record Curve(List<Double> cider, List<Double> vqa, List<Double> seconds, long samples) {
        public Curve {
            cider = List.copyOf(cider);
            vqa = List.copyOf(vqa);
            seconds = List.copyOf(seconds);
        }

        static Curve of(VlRun.Result r) {
            return new Curve(r.cider(), r.vqa(), r.seconds(), r.samples());
        }

        VlRun.Result result() {
            return new VlRun.Result(cider, vqa, seconds, samples);
        }

        /** "cider" or "vqa". */
        public List<Double> metric(String name) {
            return result().metric(name);
        }

        /** This curve followed by {@code next}'s epochs (VPGTrans: stage 1 then stage 2; stage 1 counts as epoch 1). */
        public Curve then(Curve next) {
            return of(result().then(next.result(), 0));
        }

        /** Every epoch's time moved by {@code seconds} (e.g. the converter's fitting time before stage 1). */
        public Curve shifted(double seconds) {
            return of(result().shifted(seconds));
        }
    }

    /** Receives each epoch's scores of every training stage, from the training thread. */
    @FunctionalInterface
    public interface Listener {
        /** @param stage "stage1", "stage2" or "tfs"; epoch 1-based of {@code epochs} planned */
        void onEpoch(String stage, int epoch, int epochs, double cider, double vqa);
    }

    /**
     * Session settings.
     *
     * @param preprocess how images become ViT input: {@link Preprocess#CLIP} for a real CLIP ViT (the default)
     * @param resume     read back finished stages, continue killed ones (false: each stage starts over)
     * @param quiet      no progress bars or per-epoch lines
     * @param log        where stages report (System.out by default)
     * @param listener   per-epoch scores (may be null)
     * @param threads    libtorch / OpenBLAS threads (null: leave as they are)
     * @param quantizeLlm weight-only quantisation of every frozen LLM's projections (null: dense, or as a pre-quantised folder stores them)
     * @param quantizeVit the same for the ViT (null: dense)
     * @param decoding   how every evaluation decodes
     * @param dtype      the frozen backbones' dtype (see {@link #dtype(String)}; default "auto")
     */
    public record Options(Preprocess preprocess, boolean resume, boolean quiet, PrintStream log, Listener listener, Integer threads,
                          QuantScheme quantizeLlm, QuantScheme quantizeVit, VlDecoding decoding, String dtype) {
        public static Options defaults() {
            return new Options(Preprocess.CLIP, false, false, System.out, null, null, null, null, VlDecoding.paper(), "auto");
        }

        public Options preprocess(Preprocess p) {
            return new Options(p, resume, quiet, log, listener, threads, quantizeLlm, quantizeVit, decoding, dtype);
        }

        public Options resume(boolean r) {
            return new Options(preprocess, r, quiet, log, listener, threads, quantizeLlm, quantizeVit, decoding, dtype);
        }

        public Options quiet(boolean q) {
            return new Options(preprocess, resume, q, log, listener, threads, quantizeLlm, quantizeVit, decoding, dtype);
        }

        public Options log(PrintStream l) {
            return new Options(preprocess, resume, quiet, l, listener, threads, quantizeLlm, quantizeVit, decoding, dtype);
        }

        public Options listener(Listener l) {
            return new Options(preprocess, resume, quiet, log, l, threads, quantizeLlm, quantizeVit, decoding, dtype);
        }

        public Options threads(Integer t) {
            return new Options(preprocess, resume, quiet, log, listener, t, quantizeLlm, quantizeVit, decoding, dtype);
        }

        /** Weight-only quantisation of the frozen LLMs' and the ViT's projections as they load (null: dense). */
        public Options quantize(QuantScheme llm, QuantScheme vit) {
            return new Options(preprocess, resume, quiet, log, listener, threads, llm, vit, decoding, dtype);
        }

        /** How evaluations decode (default {@link VlDecoding#paper()}: beam 5, captions 8-30 new tokens, VQA 1-10 with length penalty -1). */
        public Options decoding(VlDecoding d) {
            return new Options(preprocess, resume, quiet, log, listener, threads, quantizeLlm, quantizeVit, d, dtype);
        }

        /**
         * The frozen LLMs' and ViT's dtype: "auto" (bfloat16 where the CPU multiplies it natively, else float32),
         * "float32", "bfloat16" or "float16". The VPG, projector and converter train in float32 either way.
         */
        public Options dtype(String d) {
            Backbones.dtype(d, "cpu");                                       // a bad name is refused here, in one line
            return new Options(preprocess, resume, quiet, log, listener, threads, quantizeLlm, quantizeVit, decoding, d);
        }
    }

    /**
     * How the word converter is fitted (stage 1b).
     *
     * @param pairing          "same-ids", "positional" or "char-aligned"; null: same-ids when both LLM folders hold the same
     *                         tokenizer.json, else char-aligned
     * @param lr               plain SGD lr (official: 5.0)
     * @param captionsPerBatch captions flattened into one SGD batch (official: 4096)
     * @param epochs           passes; 0: the official 5 for one tokenizer, 8 across tokenizers
     */
    public record Converter(String pairing, double lr, int captionsPerBatch, int epochs, long seed) {
        /** The official code's settings, pairing chosen from the tokenizers. */
        public static Converter official() {
            return new Converter(null, 5.0, 4096, 0, 0);
        }

        public Converter pairing(String p) {
            return new Converter(p, lr, captionsPerBatch, epochs, seed);
        }

        public Converter captionsPerBatch(int n) {
            return new Converter(pairing, lr, n, epochs, seed);
        }

        public Converter epochs(int n) {
            return new Converter(pairing, lr, captionsPerBatch, n, seed);
        }
    }

    /** A fitted converter: where, how it paired tokens, how well it fits (1 - cos), and how long it took. */
    public record ConverterFit(Path dir, String pairing, long pairs, int captions, int dropped, double finalLoss, double seconds) {}

    /** One transfer by the whole chain: the converter, the zero-shot scores right after fusion, and the VPGTrans curve (stage 1 = epoch 1). */
    public record Transfer(ConverterFit converter, double zeroShotCider, double zeroShotVqa, Curve stage1, Curve stage2, Curve curve) {}

    /** One seed's TFS and VPGTrans curves, for {@link #speedUp}. */
    public record SeedRun(long seed, Curve tfs, Curve vpgTrans) {}

    private final VlDataset.Files files;
    private final Path vitDir;
    private final Options o;
    private final Map<Path, FrozenLlm> llms = new LinkedHashMap<>();
    private final Map<String, Tensor> features = new LinkedHashMap<>();
    private VlDataset data;
    private ClipVisionModel vit;

    private VpgTransfer(VlDataset.Files files, Path vit, Options o) {
        this.files = files;
        this.vitDir = vit;
        this.o = o;
    }

    /** A session on this dataset and frozen CLIP vision tower (HF folder); nothing is loaded until a stage needs it. */
    public static VpgTransfer open(VlDataset.Files data, Path vit, Options o) {
        VlOps.load();
        if (o.threads() != null) Threads.set(o.threads());
        return new VpgTransfer(data, vit, o);
    }

    // ---------------------------------------------------------------- the stages
    /** Stage 1b: fits the converter from {@code srcLlm}'s input embeddings to {@code tgtLlm}'s on the training captions' tokens. */
    public ConverterFit fitConverter(Path srcLlm, Path tgtLlm, Converter c, Path out) throws IOException {
        String pairing = c.pairing() != null ? c.pairing() : sameTokenizer(srcLlm, tgtLlm) ? "same-ids" : "char-aligned";
        int epochs = c.epochs() > 0 ? c.epochs() : pairing.equals("same-ids") ? 5 : 8;
        List<String> captions = dataset().trainCaptions().stream().map(VlDataset.Caption::text).toList();
        VpgTransStages.ConverterRun r = VpgTransStages.fitConverter(llm(srcLlm), llm(tgtLlm), captions, pairing,
                new WordConverter.Fit(c.lr(), c.captionsPerBatch(), epochs, c.seed()), out, o.resume(), o.quiet());
        return new ConverterFit(r.dir(), r.pairing(), r.pairs(), r.captions(), r.dropped(), r.finalLoss(), r.seconds());
    }

    /** How many token pairs a pairing finds on the training captions (0: nothing to fit, e.g. the positional heuristic across tokenizers). */
    public long pairCount(Path srcLlm, Path tgtLlm, String pairing) {
        List<String> captions = dataset().trainCaptions().stream().map(VlDataset.Caption::text).toList();
        return VpgTransStages.pairs(pairing, captions, llm(srcLlm), llm(tgtLlm)).count();
    }

    /** Stage 1b's merge: the converter after the source projector (W_t = W_c W_s, b_t = W_c b_s + b_c), checked against the target LLM. */
    public void fuse(Path converter, Path sourceProjector, Path tgtLlm, Path out) throws IOException {
        VpgTransStages.fuse(converter, sourceProjector, llm(tgtLlm).id(), out);
    }

    /** Stage 1c: the source VPG frozen, the fused projector trained alone for one epoch at the recipe's warm-up factor x lr, constant. */
    public Curve stage1(Path tgtLlm, Path sourceVpg, Path fusedProjector, Recipe r, Path out) throws IOException {
        return Curve.of(VpgTransStages.stage1(context(Vpgs.featureKey(sourceVpg), sourceVpg, null), llm(tgtLlm), sourceVpg, fusedProjector, r, out));
    }

    /** Stage 2: VPG + projector from stage 1's folder for the rest of the budget (recipe epochs - 1). */
    public Curve stage2(Path tgtLlm, Path stage1, Recipe r, Path out) throws IOException {
        return stage2(tgtLlm, stage1, r, out, null);
    }

    /**
     * Stage 2, ending early once VPGTrans (stage 1's epochs, then stage 2's) has exceeded {@code tfs}'s best on both captions and VQA
     * with at least 3 epochs on its curve (Table 3 needs nothing later); {@code tfs} null runs the whole budget.
     */
    public Curve stage2(Path tgtLlm, Path stage1, Recipe r, Path out, Curve tfs) throws IOException {
        Path vpg = stage1.resolve("vpg");
        VpgTransStages.Context ctx = context(Vpgs.featureKey(vpg), vpg, null);
        if (tfs == null) return Curve.of(VpgTransStages.stage2(ctx, llm(tgtLlm), stage1, r, out, null, ""));
        VlRun.Result s1 = VpgTransStages.read(stage1), t = tfs.result();
        return Curve.of(VpgTransStages.stage2(ctx, llm(tgtLlm), stage1, r, out, VpgTransStages.stopWhenBeaten(t, s1, 3),
                VpgTransStages.stopWhenBeatenSpec(t, 3)));
    }

    /** Training from scratch on {@code llm}: the VPG from {@code init}, a random projector, the recipe's whole budget. */
    public Curve tfs(Path llm, VpgInit init, Recipe r, Path out) throws IOException {
        return tfs(llm, init, r, out, "TFS");
    }

    /** As {@link #tfs(Path, VpgInit, Recipe, Path)}, with a label for the log. */
    public Curve tfs(Path llm, VpgInit init, Recipe r, Path out, String label) throws IOException {
        if (init instanceof VpgInit.Random q && q.config().encoderHiddenSize() != vit().config().hiddenSize()) {
            throw new IllegalArgumentException("the Q-Former config reads " + q.config().encoderHiddenSize() + "-wide ViT states; the ViT "
                    + vitDir + " is " + vit().config().hiddenSize() + " wide");
        }
        return Curve.of(VpgTransStages.tfs(context(init.featureKey(), init.folder(), init), llm(llm), init, r, out, label));
    }

    /** Per-seed and median speed-ups on one metric ("cider" or "vqa"): Table 3's, epochs to 95% of TFS's best, and the area ratio. */
    public static MultiSeedSpeedUp speedUp(List<SeedRun> runs, String metric) {
        List<MultiSeedSpeedUp.Curves> cs = new ArrayList<>();
        for (SeedRun s : runs) cs.add(new MultiSeedSpeedUp.Curves(s.seed(), s.tfs().metric(metric), s.vpgTrans().metric(metric)));
        return MultiSeedSpeedUp.of(cs);
    }

    /**
     * The whole chain in {@code out}: converter ({@code conv/}), fusion ({@code fused-projector/}), stage 1 ({@code stage1/}),
     * stage 2 ({@code stage2/}, stopping early against {@code tfs} when given). The source is a finished training folder
     * ({@code vpg/} and {@code projector/}) on {@code srcLlm}. The returned curve's seconds include the converter's fit.
     */
    public Transfer transfer(Path srcLlm, Path tgtLlm, Path source, Converter c, Recipe r, Path out, Curve tfs) throws IOException {
        ConverterFit conv = fitConverter(srcLlm, tgtLlm, c, out.resolve("converter"));
        fuse(conv.dir(), source.resolve("projector"), tgtLlm, out.resolve("fused-projector"));
        Scores z = evaluate(tgtLlm, source.resolve("vpg"), out.resolve("fused-projector"));
        Curve s1 = stage1(tgtLlm, source.resolve("vpg"), out.resolve("fused-projector"), r, out.resolve("stage1"));
        Curve s2 = stage2(tgtLlm, out.resolve("stage1"), r, out.resolve("stage2"), tfs);
        return new Transfer(conv, z.cider(), z.vqa(), s1, s2, s1.then(s2).shifted(conv.seconds()));
    }

    /** CIDEr-D and VQA accuracy of a VPG and projector on an LLM, without training. */
    public record Scores(double cider, double vqa) {}

    /** Scores a VPG and projector on {@code llm} as they are (e.g. the inherited VPG behind the fused projector). */
    public Scores evaluate(Path llm, Path vpg, Path projector) throws IOException {
        VlEval.Scores s = VpgTransStages.evaluate(context(Vpgs.featureKey(vpg), vpg, null), llm(llm), vpg, projector);
        return new Scores(s.cider(), s.vqa());
    }

    /** The curve of a stage folder (finished, or as far as a killed one got). */
    public static Curve read(Path stage) throws IOException {
        return Curve.of(VpgTransStages.read(stage));
    }

    // ---------------------------------------------------------------- what the session holds
    /** The dataset (loaded on first use). */
    public VlDataset dataset() {
        if (data == null) data = VlDataset.load(files, true);
        return data;
    }

    /** The frozen ViT (loaded on first use, in the session's dtype). */
    public ClipVisionModel vit() {
        if (vit == null) vit = ClipLoader.load(vitDir, dtype(), "cpu", 0, o.quantizeVit());
        return vit;
    }

    /** (N_images, ...) what a VPG starting from {@code init} reads, per dataset image; cached, owned by the session. */
    public Tensor features(VpgInit init) throws IOException {
        return features(init.featureKey(), init.folder(), init);
    }

    private Tensor features(String key, Path vpgDir, VpgInit init) throws IOException {
        Tensor f = features.get(key);
        if (f != null) return f;
        try (Vpg probe = vpgDir != null ? Vpgs.load(vpgDir) : init.fresh(0)) {
            // the VPG reads float32 (its weights are float32 masters); a bf16 ViT's features are cast once, here
            Tensor computed = VitFeatures.compute(vit(), o.preprocess().pipeline(vit().config().imageSize()), dataset().images(), probe, 64);
            if (io.vladapt.ext.OpCheck.dtype(computed) == ScalarType.Float) {
                f = computed;
            } else {
                try (PointerScope scope = new PointerScope()) {
                    f = computed.to(ScalarType.Float);
                    scope.detach(f.retainReference());                       // owned by the session, like computed was
                }
                computed.releaseReference();
            }
        }
        features.put(key, f);
        return f;
    }

    private ScalarType dtype() {
        return Backbones.dtype(o.dtype(), "cpu");
    }

    private VpgTransStages.Context context(String key, Path vpgDir, VpgInit init) throws IOException {
        VpgTransStages.StageListener l = o.listener() == null ? null
                : (stage, e, n, s) -> o.listener().onEpoch(stage, e, n, s.getOrDefault("cider", Double.NaN), s.getOrDefault("vqa", Double.NaN));
        return new VpgTransStages.Context(dataset(), features(key, vpgDir, init), o.resume(), o.quiet(), o.log(), l, o.decoding());
    }

    /** A frozen LLM folder, loaded once per session. */
    private FrozenLlm llm(Path dir) {
        return llms.computeIfAbsent(dir.toAbsolutePath().normalize(), d -> FrozenLlm.load(d, d.getFileName().toString(), o.quantizeLlm(), dtype()));
    }

    private static boolean sameTokenizer(Path a, Path b) throws IOException {
        Path ta = a.resolve("tokenizer.json"), tb = b.resolve("tokenizer.json");
        return Files.isRegularFile(ta) && Files.isRegularFile(tb) && Files.mismatch(ta, tb) < 0;
    }

    /** Frees the LLMs, the ViT and the cached features. */
    @Override
    public void close() {
        llms.values().forEach(FrozenLlm::close);
        llms.clear();
        features.values().forEach(Tensor::releaseReference);
        features.clear();
        if (vit != null) vit.close();
        vit = null;
    }
}
