package io.vladapt.bench;

import io.vladapt.dist.GradientBuckets;
import io.vladapt.dist.Launcher;
import io.vladapt.dist.ProcessGroupContext;
import io.vladapt.ext.Threads;
import io.vladapt.ext.VlOps;
import io.vladapt.io.TextTokenizer;
import io.vladapt.io.WordTokenizerBuilder;
import io.vladapt.mma.AdapterSettings;
import io.vladapt.mma.MmaAdapters;
import io.vladapt.mma.MmaCheckpoint;
import io.vladapt.mma.MmaConfig;
import io.vladapt.mma.MmaExample;
import io.vladapt.mma.MmaModel;
import io.vladapt.mma.MmaTask;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.RandomInit;
import io.vladapt.nn.Tensors;
import io.vladapt.train.TrainConfig;
import io.vladapt.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Data-parallel cost on this machine, through {@code vladapt launch}'s own code:
 * <ul>
 *   <li>MMA training steps/s (the Trainer, demo shapes, random weights) with one process and with N,
 *       the same global batch and micro-batch, the cores split between the processes;</li>
 *   <li>the gradient all-reduce of the LLaMA-7B-shaped adapter set (3,781,296 float32 parameters,
 *       LaVIN-7B) between N processes: median ms per step with 25 MB buckets, with 1 MB buckets, and
 *       one collective per tensor.</li>
 * </ul>
 */
public final class DistBench {
    private DistBench() {}

    private static final long MB = 1L << 20;

    /** Runs both parts as child process groups and prints the tables. */
    public static void run(PrintStream out, int nproc, int steps, int rounds, int repeats) throws IOException, InterruptedException {
        int cores = Runtime.getRuntime().availableProcessors();
        MmaBench.Shape s = MmaBench.Shape.DEMO;
        int micro = s.batch / 2, global = micro * nproc;   // one micro-batch per rank with N ranks; N accumulated with one
        out.printf("MMA training with the Trainer, demo shapes (LLM %dx%d, ViT %dx%d at %d px), random weights, float32;%n"
                        + "global batch %d = micro-batch %d x %d, %d cores; per run the median of %d steps after 2 warm-up steps;%n"
                        + "median of %d runs, the setups interleaved, [min-max] of the runs%n",
                s.llm.numLayers(), s.llm.hiddenSize(), s.vit.numLayers(), s.vit.hiddenSize(), s.vit.imageSize(), global, micro, nproc, cores,
                steps, repeats);
        int[][] setups = cores > 1 ? new int[][] {{1, cores}, {1, 1}, {nproc, Math.max(1, cores / nproc)}}
                : new int[][] {{1, 1}, {nproc, 1}};
        double[][] ms = new double[setups.length][repeats];
        for (int r = 0; r < repeats; r++) {
            for (int i = 0; i < setups.length; i++) {
                int n = setups[i][0];
                ms[i][r] = Double.parseDouble(launch(n, setups[i][1], List.of("train", String.valueOf(steps), String.valueOf(micro),
                        String.valueOf(nproc / n))).get(0));
            }
        }
        out.printf("%-34s %10s %10s %12s %10s%n", "setup", "ms/step", "steps/s", "samples/s", "vs first");
        double base = Timer.median(ms[0]);
        for (int i = 0; i < setups.length; i++) {
            double m = Timer.median(ms[i]);
            double[] sorted = ms[i].clone();
            java.util.Arrays.sort(sorted);
            out.printf("%-34s %10.1f %10.2f %12.1f %9.2fx   [%.1f-%.1f ms]%n", setups[i][0] + " process(es) x " + setups[i][1] + " thread(s)",
                    m, 1000 / m, global * 1000 / m, base / m, sorted[0], sorted[sorted.length - 1]);
        }
        out.println();
        out.printf("gradient all-reduce between %d processes (Gloo, loopback), LaVIN-7B adapter set: %,d float32 parameters "
                + "(%.1f MB); median of %d rounds%n", nproc, MmaAdapters.count(MmaConfig.lavin7b()),
                MmaAdapters.count(MmaConfig.lavin7b()) * 4.0 / 1e6, rounds);
        out.printf("%-34s %10s %10s %12s%n", "bucketing", "buckets", "ms/step", "GB/s (algo)");
        List<String> rows = launch(nproc, Math.max(1, cores / nproc), List.of("allreduce", String.valueOf(rounds)));
        for (String r : rows) {
            String[] p = r.split(" ");
            double m = Double.parseDouble(p[2]);
            out.printf("%-34s %10s %10.2f %12.2f%n", p[0].replace('_', ' '), p[1], m,
                    MmaAdapters.count(MmaConfig.lavin7b()) * 4.0 / 1e9 / (m / 1e3));
        }
    }

    /** Launches the workers; returns rank 0's RESULT lines (their text after "RESULT "). */
    private static List<String> launch(int n, int threads, List<String> args) throws IOException, InterruptedException {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(captured, true, StandardCharsets.UTF_8);
        List<String> jvm = new ArrayList<>(Launcher.inheritedJvmArgs());
        jvm.add("-Dorg.bytedeco.javacpp.maxPhysicalBytes=0");
        int code = Launcher.run(new Launcher.Spec(n, 1, 0, null, 0, Duration.ofSeconds(120), threads, jvm, DistBench.class.getName(), args),
                out, new PrintStream(OutputStream.nullOutputStream()));
        String text = captured.toString(StandardCharsets.UTF_8);
        if (code != 0) throw new IllegalStateException("benchmark workers failed (exit " + code + "):\n" + text);
        List<String> results = new ArrayList<>();
        for (String line : text.split("\n")) {
            int at = line.indexOf("] RESULT ");
            if (line.startsWith("[rank 0]") && at > 0) results.add(line.substring(at + "] RESULT ".length()).strip());
        }
        if (results.isEmpty()) throw new IllegalStateException("no result from the benchmark workers:\n" + text);
        return results;
    }

    /** Worker: "train STEPS MICRO ACCUM" or "allreduce ROUNDS"; rank 0 prints RESULT lines. */
    public static void main(String[] args) throws IOException {
        VlOps.load();
        Threads.set(Runtime.getRuntime().availableProcessors());
        if (args[0].equals("train")) {
            double ms = train(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            if (io.vladapt.train.DataParallel.leader()) System.out.println("RESULT " + ms);
        } else {
            allreduce(Integer.parseInt(args[1]));
        }
        System.exit(0);
    }

    /** Median ms per optimizer step of the Trainer on random MMA examples (every other one with an image). */
    private static double train(int steps, int micro, int accum) throws IOException {
        MmaBench.Shape s = MmaBench.Shape.DEMO;
        Path dir = Files.createTempDirectory("vladapt-dist-bench");
        WordTokenizerBuilder.write(dir.resolve("tok"), List.of("Image: N/A Question Context Options Response The answer is"), 1);
        int world = ProcessGroupContext.current() == null ? 1 : ProcessGroupContext.current().worldSize();
        int total = steps + 2;
        try (TextTokenizer tok = TextTokenizer.load(dir.resolve("tok")); LlamaModel llm = RandomInit.llama(s.llm, 1, ScalarType.Float);
             ClipVisionModel vit = RandomInit.clip(s.vit, 2, ScalarType.Float)) {
            AdapterSettings a = new AdapterSettings(2, 1.0, 10.0, 0.1);
            MmaConfig mc = new MmaConfig(s.llm.numLayers(), s.llm.hiddenSize(), s.vit.numLayers(), s.vit.hiddenSize(), 8, a, a, 128,
                    s.visualTokens, false);
            try (MmaModel m = new MmaModel(llm, vit, MmaAdapters.init(mc, 3), tok); PointerScope scope = new PointerScope()) {
                List<MmaExample> examples = randomExamples(m, s, total * micro * accum * world);
                TrainConfig cfg = new TrainConfig(1, micro, accum, 9e-3, 0, 0.02, 0, 0, 0, 1, dir.resolve("out"), true);
                List<Trainer.Metric> metrics = new Trainer(new MmaTask(m, examples, new MmaCheckpoint.Base("random", s.llm.vocabSize(),
                        s.llm.numLayers(), s.llm.hiddenSize(), "random", s.vit.numLayers(), s.vit.hiddenSize())), cfg).run(false, total);
                double[] ms = new double[steps];
                for (int i = 0; i < steps; i++) ms[i] = (metrics.get(i + 2).seconds() - metrics.get(i + 1).seconds()) * 1e3;
                return Timer.median(ms);
            }
        }
    }

    private static List<MmaExample> randomExamples(MmaModel m, MmaBench.Shape s, int n) {
        Random rnd = new Random(0);
        torch.manual_seed(0);
        List<MmaExample> out = new ArrayList<>();
        int slot = m.visualSlot(), k = m.config().visualTokens();
        for (int i = 0; i < n; i++) {
            boolean image = i % 2 == 0;
            long[] ids = new long[s.tokens];
            for (int j = 0; j < ids.length; j++) ids[j] = 3 + rnd.nextInt(s.llm.vocabSize() - 3);
            ids[0] = 1;
            if (image) java.util.Arrays.fill(ids, slot, slot + k, 0);
            Tensor img = image ? torch.randn(new long[] {3, s.vit.imageSize(), s.vit.imageSize()}, Tensors.options(ScalarType.Float)) : null;
            out.add(new MmaExample(new MmaModel.Encoded(ids, s.tokens - 12, image), img));
        }
        return out;
    }

    /** Times GradientBuckets.sum over the LaVIN-7B adapter set, the bucketings interleaved round by round. */
    private static void allreduce(int rounds) {
        ProcessGroupContext ctx = ProcessGroupContext.current();
        if (ctx == null) throw new IllegalStateException("the all-reduce benchmark needs WORLD_SIZE > 1");
        long[] caps = {25 * MB, MB, 0};
        List<MmaAdapters> sets = new ArrayList<>();   // one adapter set per bucketing: each keeps its gradients as bucket views
        try (PointerScope scope = new PointerScope()) {
            String[] names = {"25_MB_buckets", "1_MB_buckets", "one_collective_per_tensor", "bare_flat_tensor_(no_packing)"};
            GradientBuckets[] variants = new GradientBuckets[caps.length];
            for (int v = 0; v < caps.length; v++) {
                MmaAdapters a = MmaAdapters.init(MmaConfig.lavin7b(), 0);
                sets.add(a);
                a.params().asMap().values().forEach(t -> t.mutable_grad().put(torch.randn_like(t)));
                variants[v] = new GradientBuckets(a.params().asMap(), caps[v]);
            }
            Tensor flat = torch.randn(new long[] {sets.get(0).params().count()}, Tensors.options(ScalarType.Float));   // the collective alone
            double[][] ms = new double[names.length][rounds];
            for (int r = -2; r < rounds; r++) {
                for (int v = 0; v < names.length; v++) {
                    long t0 = System.nanoTime();
                    if (v < variants.length) variants[v].sum(ctx, 0, "benchmark all-reduce");
                    else ctx.allreduce(flat, "benchmark all-reduce");
                    if (r >= 0) ms[v][r] = (System.nanoTime() - t0) / 1e6;
                }
            }
            if (ctx.rank() == 0) {
                for (int v = 0; v < names.length; v++) {
                    System.out.println("RESULT " + names[v] + " " + (v < variants.length ? variants[v].buckets() : 1) + " " + Timer.median(ms[v]));
                }
            }
            for (GradientBuckets b : variants) b.close();
        } finally {
            sets.forEach(MmaAdapters::close);
        }
    }
}
