package io.vladapt.cli;

import io.vladapt.api.Preprocess;
import io.vladapt.api.VpgTransfer;
import io.vladapt.demo.VpgTransDemo;
import io.vladapt.vpg.MultiSeedSpeedUp;
import io.vladapt.vpg.QFormerConfigFiles;
import io.vladapt.vpg.Recipe;
import io.vladapt.vpg.SeedCurvesPlot;
import io.vladapt.vpg.VpgInit;
import io.vladapt.vpg.transfer.WordConverter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code vladapt vpgtrans ...}: transfer a VPG from one LLM to another (VPGTrans); each command calls {@link VpgTransfer}. */
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

        @Option(names = "--seeds", defaultValue = "3", description = "seeds per run (VPG init, data order, dropout): 7, 8, ... (default: ${DEFAULT-VALUE})")
        int seeds;

        @Option(names = "--vpg-init", defaultValue = "attributes", description = "the LLM-independent VPG init: attributes (each cell's colour,"
                + " shape, size) or contrastive (image-text contrastive on the captions, BLIP-2 stage 1 style; runs in run-contrastive/)"
                + " (default: ${DEFAULT-VALUE})")
        String init;

        @Option(names = "--threads", description = "libtorch and OpenBLAS threads (default: all cores)")
        Integer threads;

        @Option(names = "--quiet", description = "no progress bars")
        boolean quiet;

        @Override
        public Integer call() throws Exception {
            CliNatives.load(threads);
            Path d = dir != null ? dir : Path.of(System.getProperty("user.home"), ".cache", "vladapt", "vpgtrans-demo");
            VpgTransDemo.Options s = VpgTransDemo.Options.standard(d).with(!noCross, quiet).withSeeds(seeds).withInit(init);
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

        @Option(names = "--dtype", defaultValue = "auto", description = "the frozen LLMs' (and ViT's) dtype: auto (bfloat16 where the CPU "
                + "multiplies it natively, else float32), float32, bfloat16, float16; VPG, projector and converter train in float32 "
                + "(default: ${DEFAULT-VALUE})")
        String dtype;

        @Option(names = "--threads")
        Integer threads;

        @Override
        public Integer call() throws Exception {
            CliNatives.load(threads);
            if (Files.isRegularFile(out.resolve(WordConverter.CONFIG))) {
                System.out.println(out + " already holds a converter: nothing to do (delete it to fit again)");
                return 0;
            }
            VpgTransfer.Converter c = new VpgTransfer.Converter(pairing, lr, batch, epochs != null ? epochs : 0, seed);
            try (VpgTransfer vt = VpgTransfer.open(data.files(), null, VpgTransfer.Options.defaults().dtype(dtype))) {
                VpgTransfer.ConverterFit f = vt.fitConverter(src, tgt, c, out);
                System.out.printf("%s: %,d token pairs from %d captions (%d dropped), final 1 - cos %.4f -> %s%n", f.pairing(), f.pairs(), f.captions(),
                        f.dropped(), f.finalLoss(), out);
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
            try (VpgTransfer vt = VpgTransfer.open(null, null, VpgTransfer.Options.defaults())) {
                vt.fuse(converter, source, tgt, out);
            }
            System.out.println("fused projector for " + tgt + " written to " + out);
            return 0;
        }
    }

    /** What every training stage needs: data, ViT, target LLM, recipe, output. */
    static class StageOptions {
        @Mixin
        DataOptions data;

        @Option(names = "--vit", required = true, description = "frozen CLIP vision tower (HF folder)")
        Path vit;

        @Option(names = "--preprocess", defaultValue = "clip", description = "clip (shorter side to the ViT's size + centre crop, CLIP statistics;"
                + " for a real CLIP ViT) or lavin (square resize, ImageNet statistics: the demo's ViT) (default: ${DEFAULT-VALUE})")
        String preprocess;

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

        @Option(names = "--seed", defaultValue = "7", description = "data order, dropout, a fresh VPG (seed + 50) and projector (seed + 51)")
        long seed;

        @Option(names = "--resume", description = "continue from the newest checkpoint in --out (a finished stage is read back)")
        boolean resume;

        @Option(names = "--threads")
        Integer threads;

        @Option(names = "--quiet")
        boolean quiet;

        @Option(names = "--dtype", defaultValue = "auto", description = "the frozen LLMs' (and ViT's) dtype: auto (bfloat16 where the CPU "
                + "multiplies it natively, else float32), float32, bfloat16, float16; VPG, projector and converter train in float32 "
                + "(default: ${DEFAULT-VALUE})")
        String dtype;

        @Mixin
        QuantizeOptions quantize = new QuantizeOptions();

        @Mixin
        DecodingOptions decoding;

        Recipe recipe() {
            return new Recipe(lr, minLr, warmup, epochs, batch, accum, factor, wd, seed);
        }

        /** Opens a session, runs one stage, prints its curve. */
        int run(Stage stage) throws Exception {
            CliNatives.load(threads);
            VpgTransfer.Options o = VpgTransfer.Options.defaults().preprocess(Preprocess.parse(preprocess)).resume(resume).quiet(quiet)
                    .quantize(quantize.llm(), quantize.vit()).decoding(decoding.vl()).dtype(dtype);
            if (!quiet) System.out.println("evaluation decoding: " + o.decoding().describe());
            try (VpgTransfer vt = VpgTransfer.open(data.files(), vit, o)) {
                VpgTransfer.Curve r = stage.run(vt);
                System.out.println("epoch  CIDEr-D  VQA acc");
                for (int i = 0; i < r.cider().size(); i++) System.out.printf("%5d  %7.2f  %7.2f%n", i + 1, r.cider().get(i), r.vqa().get(i));
                System.out.println("VPG and projector written to " + out.resolve("vpg") + ", " + out.resolve("projector"));
            }
            return 0;
        }

        interface Stage {
            VpgTransfer.Curve run(VpgTransfer vt) throws Exception;
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
            return run(vt -> vt.stage1(llm, vpg, projector, recipe(), out));
        }
    }

    @Command(name = "stage2", mixinStandardHelpOptions = true,
            description = "Train VPG + projector from stage 1's result at the base lr with warm-up and cosine (epochs - 1 epochs).")
    static final class Stage2 extends StageOptions implements Callable<Integer> {
        @Option(names = "--from", required = true, description = "stage 1's --out folder (its vpg/ and projector/)")
        Path from;

        @Override
        public Integer call() throws Exception {
            return run(vt -> vt.stage2(llm, from, recipe(), out));
        }
    }

    @Command(name = "tfs", mixinStandardHelpOptions = true,
            description = "Training from scratch on the target LLM: the given (LLM-independent) VPG init, or a random Q-Former shaped like a"
                    + " given VPG (e.g. the source's) or of a given config; a random projector.")
    static final class Tfs extends StageOptions implements Callable<Integer> {
        @Option(names = "--vpg", description = "VPG initialisation folder (its weights are the start)")
        Path vpg;

        @Option(names = "--random-like", description = "a VPG folder (e.g. the source VPG): start from a random Q-Former of its config")
        Path randomLike;

        @Option(names = "--qformer-config", description = "start from a random Q-Former of this config (VLAdapt's qformer_config.json or a BLIP-2"
                + " config.json)")
        Path qformerConfig;

        @Option(names = "--vit-block", defaultValue = "-1", description = "with --qformer-config: the ViT block the Q-Former reads (-1: the last)")
        int vitBlock;

        @Override
        public Integer call() throws Exception {
            int given = (vpg != null ? 1 : 0) + (randomLike != null ? 1 : 0) + (qformerConfig != null ? 1 : 0);
            if (given != 1) {
                throw new IllegalArgumentException("tfs needs exactly one of --vpg (an initialisation), --random-like (a random Q-Former shaped like"
                        + " that VPG, e.g. the source's) or --qformer-config (a random Q-Former of that config)");
            }
            VpgInit init = vpg != null ? VpgInit.weights(vpg) : randomLike != null ? VpgInit.randomLike(randomLike)
                    : VpgInit.random(QFormerConfigFiles.read(qformerConfig), vitBlock);
            return run(vt -> vt.tfs(llm, init, recipe(), out));
        }
    }

    @Command(name = "speedup", mixinStandardHelpOptions = true,
            description = "Speed-ups from the eval.jsonl curves, per seed and the median: Table 3's (TFS's best epoch / the first VPGTrans epoch above"
                    + " it; stage 1 = epoch 1), epochs to reach 95% of TFS's best, and the ratio of the areas under the curves.")
    static final class Speedup implements Callable<Integer> {
        @Option(names = "--tfs", required = true, split = ",", description = "the TFS --out folder(s): one per seed, or one with {seed} in it")
        List<String> tfs;

        @Option(names = "--stage1", required = true, split = ",", description = "the stage 1 --out folder(s), as --tfs")
        List<String> stage1;

        @Option(names = "--stage2", required = true, split = ",", description = "the stage 2 --out folder(s), as --tfs")
        List<String> stage2;

        @Option(names = "--seeds", split = ",", description = "the seeds (e.g. 7,8,9): fill {seed} in the folders, or name one folder each")
        List<Long> seeds;

        @Option(names = "--plot", description = "write every seed's TFS and VPGTrans curves to this PNG")
        Path plot;

        @Override
        public Integer call() throws Exception {
            int n = seeds != null ? seeds.size() : Math.max(tfs.size(), Math.max(stage1.size(), stage2.size()));
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < n; i++) ids.add(seeds != null ? seeds.get(i) : (long) i);
            List<VpgTransfer.SeedRun> runs = new ArrayList<>();
            List<SeedCurvesPlot.Series> series = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                long seed = ids.get(i);
                VpgTransfer.Curve t = VpgTransfer.read(folder(tfs, "--tfs", i, n, seed));
                VpgTransfer.Curve vt = VpgTransfer.read(folder(stage1, "--stage1", i, n, seed)).then(VpgTransfer.read(folder(stage2, "--stage2", i, n, seed)));
                runs.add(new VpgTransfer.SeedRun(seed, t, vt));
                series.add(new SeedCurvesPlot.Series("TFS", seed, t.cider(), t.vqa()));
                series.add(new SeedCurvesPlot.Series("VPGTrans", seed, vt.cider(), vt.vqa()));
            }
            MultiSeedSpeedUp c = VpgTransfer.speedUp(runs, "cider"), q = VpgTransfer.speedUp(runs, "vqa");
            if (n == 1) {
                table3("captions (CIDEr-D): ", c);
                table3("VQA (accuracy):     ", q);
            }
            c.lines("captions (CIDEr-D)").forEach(System.out::println);
            q.lines("VQA (accuracy)").forEach(System.out::println);
            if (plot != null) {
                Map<String, List<SeedCurvesPlot.Series>> rows = new LinkedHashMap<>();
                rows.put("VPGTrans vs TFS", series);
                SeedCurvesPlot.write(plot, rows);
                System.out.println("curves: " + plot);
            }
            return 0;
        }

        private static void table3(String metric, MultiSeedSpeedUp m) {
            io.vladapt.vpg.SpeedUp s = m.seeds().get(0).table3();
            System.out.printf("%sTFS best %.2f at epoch %d; VPGTrans exceeds it at %s: speed-up %s%n", metric, s.best(), s.tfsEpoch(),
                    s.never() ? "no epoch" : "epoch " + s.vtEpoch(), s.label());
        }

        /** The i-th folder: one per seed, or one with {seed} filled in. */
        private static Path folder(List<String> given, String option, int i, int n, long seed) {
            if (given.size() == n) return Path.of(given.get(i).replace("{seed}", Long.toString(seed)));
            if (given.size() == 1 && given.get(0).contains("{seed}")) return Path.of(given.get(0).replace("{seed}", Long.toString(seed)));
            throw new IllegalArgumentException(option + ": give " + n + " folders (one per seed) or one with {seed} in it, not " + given.size());
        }
    }
}
