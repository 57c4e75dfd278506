package io.vladapt.cli;

import io.vladapt.demo.VpgTransDemo;
import io.vladapt.io.ClipLoader;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.train.TrainConfig;
import io.vladapt.vpg.FrozenLlm;
import io.vladapt.vpg.Projector;
import io.vladapt.vpg.QFormerConfig;
import io.vladapt.vpg.QFormerInit;
import io.vladapt.vpg.QFormerVpg;
import io.vladapt.vpg.Recipe;
import io.vladapt.vpg.SpeedUp;
import io.vladapt.vpg.TokenPairs;
import io.vladapt.vpg.VitFeatures;
import io.vladapt.vpg.VlDataset;
import io.vladapt.vpg.VlRun;
import io.vladapt.vpg.Vpg;
import io.vladapt.vpg.VpgTask;
import io.vladapt.vpg.Vpgs;
import io.vladapt.vpg.WordConverter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code vladapt vpgtrans ...}: transfer a VPG from one LLM to another (VPGTrans). */
@Command(name = "vpgtrans", mixinStandardHelpOptions = true,
        description = "VPGTrans: move a visual prompt generator and its projector from LLM_src to LLM_tgt.",
        subcommands = {VpgTransCommand.Demo.class, VpgTransCommand.FitConverter.class, VpgTransCommand.Fuse.class, VpgTransCommand.Stage1.class,
                VpgTransCommand.Stage2.class, VpgTransCommand.Tfs.class, VpgTransCommand.Speedup.class})
final class VpgTransCommand implements Runnable {
    @Override
    public void run() {
        picocli.CommandLine.usage(this, System.out);
    }

    @Command(name = "demo", mixinStandardHelpOptions = true,
            description = "VPGTrans vs training from scratch on an embedded default (synthetic captions + VQA, small LMs and ViT made here, cached).")
    static final class Demo implements Callable<Integer> {
        @Option(names = "--dir", description = "work and cache folder (default: ~/.cache/vladapt/vpgtrans-demo)")
        Path dir;

        @Option(names = "--no-cross-tokenizer", description = "skip the word -> BPE tokenizer transfer")
        boolean noCross;

        @Option(names = "--threads", description = "libtorch and OpenBLAS threads (default: all cores)")
        Integer threads;

        @Option(names = "--quiet", description = "no progress bars")
        boolean quiet;

        @Override
        public Integer call() throws Exception {
            CliNatives.load(threads);
            Path d = dir != null ? dir : Path.of(System.getProperty("user.home"), ".cache", "vladapt", "vpgtrans-demo");
            VpgTransDemo.Options s = VpgTransDemo.Options.standard(d).with(!noCross, quiet);
            new VpgTransDemo(s, System.out).run();
            return 0;
        }
    }

    @Command(name = "fit-converter", mixinStandardHelpOptions = true,
            description = "Fit the word-embedding converter LLM_src -> LLM_tgt on the caption tokens (1 - cos, SGD).")
    static final class FitConverter implements Callable<Integer> {
        @Mixin
        DataOptions data;

        @Option(names = "--src-llm", required = true, description = "source LLM folder (with tokenizer)")
        Path src;

        @Option(names = "--tgt-llm", required = true, description = "target LLM folder (with tokenizer)")
        Path tgt;

        @Option(names = "--pairing", description = "same-ids | positional | char-aligned (default: same-ids when the tokenizer.json files are"
                + " identical, else char-aligned)")
        String pairing;

        @Option(names = "--lr", defaultValue = "5.0", description = "SGD lr (default: ${DEFAULT-VALUE}, as the official code)")
        double lr;

        @Option(names = "--epochs", description = "passes (default: 5 same tokenizer, 8 across tokenizers)")
        Integer epochs;

        @Option(names = "--captions-per-batch", defaultValue = "4096", description = "captions flattened into one SGD batch (default: ${DEFAULT-VALUE})")
        int batch;

        @Option(names = "--seed", defaultValue = "0")
        long seed;

        @Option(names = "--out", required = true, description = "converter folder to write (converter.safetensors + converter_config.json)")
        Path out;

        @Option(names = "--threads")
        Integer threads;

        @Override
        public Integer call() throws Exception {
            CliNatives.load(threads);
            if (Files.isRegularFile(out.resolve(WordConverter.CONFIG))) {
                System.out.println(out + " already holds a converter: nothing to do (delete it to fit again)");
                return 0;
            }
            VlDataset d = VlDataset.load(data.files(), true);
            List<String> caps = d.trainCaptions().stream().map(VlDataset.Caption::text).toList();
            try (FrozenLlm s = FrozenLlm.load(src, src.getFileName().toString()); FrozenLlm t = FrozenLlm.load(tgt, tgt.getFileName().toString());
                 PointerScope scope = new PointerScope()) {
                String how = pairing != null ? pairing
                        : Files.isRegularFile(src.resolve("tokenizer.json")) && Files.isRegularFile(tgt.resolve("tokenizer.json"))
                        && Files.mismatch(src.resolve("tokenizer.json"), tgt.resolve("tokenizer.json")) < 0 ? "same-ids" : "char-aligned";
                TokenPairs pairs = switch (how) {
                    case "same-ids" -> TokenPairs.sameTokenizer(caps, s.tok());
                    case "positional" -> TokenPairs.positional(caps, s.tok(), t.tok());
                    case "char-aligned" -> TokenPairs.charAligned(caps, s.tok(), t.tok());
                    default -> throw new IllegalArgumentException("--pairing must be same-ids, positional or char-aligned, not " + how);
                };
                boolean cross = !how.equals("same-ids");
                WordConverter.Fit f = new WordConverter.Fit(lr, batch, epochs != null ? epochs : cross ? 8 : 5, seed);
                try (WordConverter c = WordConverter.fit(s.embeddings(), t.embeddings(), pairs, f, s.id(), t.id(), false)) {
                    c.save(out);
                    System.out.printf("%s: %,d token pairs from %d captions (%d dropped), final 1 - cos %.4f -> %s%n", how, pairs.count(),
                            pairs.source().size(), pairs.dropped(), c.finalLoss(), out);
                }
            }
            return 0;
        }
    }

    @Command(name = "fuse", mixinStandardHelpOptions = true,
            description = "Fuse the converter into the source projector: W_t = W_c W_s, b_t = W_c b_s + b_c (the official merge order).")
    static final class Fuse implements Callable<Integer> {
        @Option(names = "--converter", required = true)
        Path converter;

        @Option(names = "--source-projector", required = true, description = "the source VL model's projector folder")
        Path source;

        @Option(names = "--tgt-llm", required = true, description = "target LLM folder (checked against the converter)")
        Path tgt;

        @Option(names = "--out", required = true, description = "projector folder to write")
        Path out;

        @Override
        public Integer call() throws Exception {
            CliNatives.load(1);
            try (FrozenLlm t = FrozenLlm.load(tgt, tgt.getFileName().toString()); WordConverter c = WordConverter.load(converter);
                 Projector s = Projector.load(source); Projector f = Projector.fused(c, s, t.id())) {
                f.save(out);
                System.out.println("fused projector " + f.inWidth() + " -> " + t.id().hiddenSize() + " written to " + out);
            }
            return 0;
        }
    }

    /** What every training stage needs: data, ViT, target LLM, recipe, output. */
    static class StageOptions {
        @Mixin
        DataOptions data;

        @Option(names = "--vit", required = true, description = "frozen CLIP vision tower (HF folder)")
        Path vit;

        @Option(names = "--llm", required = true, description = "the (target) LLM folder")
        Path llm;

        @Option(names = "--out", required = true, description = "output folder: checkpoints, eval.jsonl, then vpg/ and projector/")
        Path out;

        @Option(names = "--lr", defaultValue = "1e-4", description = "peak lr of stage 2 / TFS (stage 1 uses 5x) (default: ${DEFAULT-VALUE})")
        double lr;

        @Option(names = "--min-lr", defaultValue = "1e-5", description = "cosine floor (default: ${DEFAULT-VALUE})")
        double minLr;

        @Option(names = "--warmup-epochs", defaultValue = "0.5")
        double warmup;

        @Option(names = "--epochs", defaultValue = "10", description = "TFS budget; VPGTrans' stage 1 counts as epoch 1 (default: ${DEFAULT-VALUE})")
        int epochs;

        @Option(names = "--batch", defaultValue = "32")
        int batch;

        @Option(names = "--accum", defaultValue = "1")
        int accum;

        @Option(names = "--warmup-factor", defaultValue = "5", description = "stage 1 lr multiple (default: ${DEFAULT-VALUE})")
        double factor;

        @Option(names = "--weight-decay", defaultValue = "0.05")
        double wd;

        @Option(names = "--seed", defaultValue = "7")
        long seed;

        @Option(names = "--resume", description = "continue from the newest checkpoint in --out")
        boolean resume;

        @Option(names = "--threads")
        Integer threads;

        @Option(names = "--quiet")
        boolean quiet;

        @Mixin
        DecodingOptions decoding;

        Recipe recipe() {
            return new Recipe(lr, minLr, warmup, epochs, batch, accum, factor, wd, seed);
        }

        /** Loads ViT + LLM + data, caches features for {@code vpg}'s kind, runs one stage. */
        int run(Path vpgDir, Path projectorDir, VpgTask.Part part, TrainConfig tc, String label) throws Exception {
            CliNatives.load(threads);
            VlDataset d = VlDataset.load(data.files(), true);
            io.vladapt.vpg.VlDecoding decoding = this.decoding.vl();
            if (!quiet) System.out.println("evaluation decoding: " + decoding.describe());
            try (ClipVisionModel v = ClipLoader.load(vit, ScalarType.Float); FrozenLlm l = FrozenLlm.load(llm, llm.getFileName().toString())) {
                Tensor features;
                try (Vpg probe = vpgDir != null ? Vpgs.load(vpgDir) : freshVpg(v)) {
                    features = VitFeatures.compute(v, io.vladapt.demo.SceneVit.pipeline(v.config()), d.images(), probe, 64);
                }
                try {
                    VlRun.Result r = VlRun.train(l, vpgDir, () -> freshVpg(v), projectorDir, seed + 51, features, d, out, tc, part, null, resume, label,
                            System.out, decoding);
                    System.out.println("epoch  CIDEr-D  VQA acc");
                    for (int i = 0; i < r.cider().size(); i++) System.out.printf("%5d  %7.2f  %7.2f%n", i + 1, r.cider().get(i), r.vqa().get(i));
                    System.out.println("VPG and projector written to " + out.resolve("vpg") + ", " + out.resolve("projector"));
                } finally {
                    features.releaseReference();
                }
            }
            return 0;
        }

        Vpg freshVpg(ClipVisionModel v) {
            QFormerConfig c = new QFormerConfig(64, 2, 4, 128, 1, v.config().hiddenSize(), 12, 1e-12, 1e-5, 0.1, 0.1);
            return new QFormerVpg(QFormerInit.random(c, seed + 50), -1);
        }
    }

    @Command(name = "stage1", mixinStandardHelpOptions = true,
            description = "Projector warm-up: inherit the source VPG, start from the fused projector, train only the projector for one epoch at"
                    + " 5x lr (constant).")
    static final class Stage1 extends StageOptions implements Callable<Integer> {
        @Option(names = "--vpg", required = true, description = "the source VPG folder")
        Path vpg;

        @Option(names = "--projector", required = true, description = "the fused projector folder (vladapt vpgtrans fuse)")
        Path projector;

        @Override
        public Integer call() throws Exception {
            return run(vpg, projector, VpgTask.Part.PROJECTOR, recipe().stage1(out.resolve("train"), quiet), "VPGTrans stage 1");
        }
    }

    @Command(name = "stage2", mixinStandardHelpOptions = true,
            description = "Train VPG + projector from stage 1's result at the base lr with warm-up and cosine (epochs - 1 epochs).")
    static final class Stage2 extends StageOptions implements Callable<Integer> {
        @Option(names = "--from", required = true, description = "stage 1's --out folder (its vpg/ and projector/)")
        Path from;

        @Override
        public Integer call() throws Exception {
            return run(from.resolve("vpg"), from.resolve("projector"), VpgTask.Part.VPG_AND_PROJECTOR, recipe().stage2(out.resolve("train"), quiet),
                    "VPGTrans stage 2");
        }
    }

    @Command(name = "tfs", mixinStandardHelpOptions = true,
            description = "Training from scratch on the target LLM: the given (LLM-independent) VPG init or a random one, a random projector.")
    static final class Tfs extends StageOptions implements Callable<Integer> {
        @Option(names = "--vpg", description = "VPG initialisation folder (default: a random Q-Former)")
        Path vpg;

        @Override
        public Integer call() throws Exception {
            return run(vpg, null, VpgTask.Part.VPG_AND_PROJECTOR, recipe().tfs(out.resolve("train"), quiet), "TFS");
        }
    }

    @Command(name = "speedup", mixinStandardHelpOptions = true,
            description = "Table 3's speed-up from the eval.jsonl curves: TFS's best epoch / the first VPGTrans epoch above it (stage 1 = epoch 1).")
    static final class Speedup implements Callable<Integer> {
        @Option(names = "--tfs", required = true, description = "the TFS --out folder")
        Path tfs;

        @Option(names = "--stage1", required = true, description = "the stage 1 --out folder")
        Path stage1;

        @Option(names = "--stage2", required = true, description = "the stage 2 --out folder")
        Path stage2;

        @Override
        public Integer call() throws Exception {
            VlRun.Result t = VlRun.read(tfs.resolve("train")), s1 = VlRun.read(stage1.resolve("train")), s2 = VlRun.read(stage2.resolve("train"));
            List<Double> cider = new ArrayList<>(s1.cider()), vqa = new ArrayList<>(s1.vqa());
            cider.addAll(s2.cider());
            vqa.addAll(s2.vqa());
            SpeedUp c = SpeedUp.of(t.cider(), cider), q = SpeedUp.of(t.vqa(), vqa);
            System.out.printf("captions (CIDEr-D): TFS best %.2f at epoch %d; VPGTrans exceeds it at %s: speed-up %s%n", c.best(), c.tfsEpoch(),
                    c.never() ? "no epoch" : "epoch " + c.vtEpoch(), c.label());
            System.out.printf("VQA (accuracy):     TFS best %.2f at epoch %d; VPGTrans exceeds it at %s: speed-up %s%n", q.best(), q.tfsEpoch(),
                    q.never() ? "no epoch" : "epoch " + q.vtEpoch(), q.label());
            return 0;
        }
    }
}
