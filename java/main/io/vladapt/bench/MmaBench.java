package io.vladapt.bench;

import io.vladapt.ext.CpuFeatures;
import io.vladapt.ext.Threads;
import io.vladapt.ext.VlOps;
import io.vladapt.io.TextTokenizer;
import io.vladapt.io.WordTokenizerBuilder;
import io.vladapt.mma.AdapterSettings;
import io.vladapt.mma.MmaAdapters;
import io.vladapt.mma.MmaBatch;
import io.vladapt.mma.MmaConfig;
import io.vladapt.mma.MmaInference;
import io.vladapt.mma.MmaModel;
import io.vladapt.nn.ClipVisionConfig;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.GenerationConfig;
import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.RandomInit;
import io.vladapt.nn.Tensors;
import io.vladapt.train.AdamW;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * MMA training steps and chat speed with random weights:
 * <ul>
 *   <li>median step time (forward, backward, AdamW) and peak RSS for the demo's shapes and for a
 *       LLaMA-7B-shaped stack (d 4096, 32 heads, FFN 11008, vocab 32000) over a ViT-L/14-shaped one
 *       (d 1024, 224 px), a few blocks each: VLAdapt in float32 and bfloat16 (frozen weights stored in
 *       bf16, adapters float32), with activation checkpointing, and LaVIN's op-by-op adapter
 *       composition from Java as a baseline. Each configuration runs in its own JVM so that peak RSS is
 *       its own;</li>
 *   <li>with {@code --vs-pytorch PYTHON}, bench/pytorch_mma.py runs the same model in PyTorch eager (float32,
 *       bf16 autocast, bf16 autocast with bf16 frozen weights), interleaved with VLAdapt's runs;</li>
 *   <li>each step time as a multiple of its matmul floor: the step's GEMM work (forward, and backward
 *       to the inputs: frozen weights get no gradient) at the GEMM rate measured in this process;</li>
 *   <li>chat tokens/s on the 7B-shaped stack with merged and with unmerged adapters.</li>
 * </ul>
 */
public final class MmaBench {
    private MmaBench() {}

    /** The two model shapes. */
    public enum Shape {
        DEMO(new LlamaConfig(256, 128, 352, 4, 4, 4, 32, 1e-5, 10000.0, null, 256, false, false, 1, List.of(2), 0, "float32"),
                new ClipVisionConfig(64, 128, 6, 4, 32, 8, 3, "quick_gelu", 1e-5), 16, 56, 6, "demo"),
        LLAMA7B_STACK(new LlamaConfig(32000, 4096, 11008, 2, 32, 32, 128, 1e-6, 10000.0, null, 4096, false, false, 1, List.of(2), 0,
                "float32"), new ClipVisionConfig(1024, 4096, 2, 16, 224, 14, 3, "quick_gelu", 1e-5), 2, 64, 2, "llama7b_stack");

        final LlamaConfig llm;
        final ClipVisionConfig vit;
        final int batch, tokens, visualTokens;
        final String pytorchName;

        Shape(LlamaConfig llm, ClipVisionConfig vit, int batch, int tokens, int visualTokens, String pytorchName) {
            this.llm = llm;
            this.vit = vit;
            this.batch = batch;
            this.tokens = tokens;
            this.visualTokens = visualTokens;
            this.pytorchName = pytorchName;
        }

        /** Supervised positions per sample (the answer span): the last 12 tokens. */
        static final int SUPERVISED = 12;

        /**
         * GEMM flops of one training step: the frozen projections (forward, and backward to their inputs),
         * attention scores and weighted sums (the same twice more in backward), the LM head on the
         * supervised rows, the ViT on the image samples.
         */
        double stepFlops() {
            double d = llm.hiddenSize(), ffn = llm.intermediateSize(), l = tokens + 1, n = batch * l;
            double llmFwd = llm.numLayers() * (n * 2 * (4 * d * d + 3 * d * ffn) + batch * 4 * l * l * d)
                    + batch * SUPERVISED * 2 * d * llm.vocabSize();
            double images = (batch + 1) / 2, vd = vit.hiddenSize(), vt = Math.pow(vit.imageSize() / vit.patchSize(), 2) + 1;
            double vitFwd = images * (vit.numLayers() * (vt * 2 * (4 * vd * vd + 2 * vd * vit.intermediateSize()) + 4 * vt * vt * vd)
                    + (vt - 1) * 2 * vd * 3 * vit.patchSize() * vit.patchSize());
            return 2 * (llmFwd + vitFwd);      // backward to the inputs costs the forward's GEMMs again
        }
    }

    /** A VLAdapt configuration: dtype, adapter implementation, checkpointing. */
    enum Variant {
        F32("train", ScalarType.Float, false, false), BF16("train", ScalarType.BFloat16, false, false),
        BF16_CKPT("train", ScalarType.BFloat16, false, true), F32_NAIVE("train", ScalarType.Float, true, false);

        final String what;
        final ScalarType dtype;
        final boolean naive, checkpointing;

        Variant(String what, ScalarType dtype, boolean naive, boolean checkpointing) {
            this.what = what;
            this.dtype = dtype;
            this.naive = naive;
            this.checkpointing = checkpointing;
        }

        String label() {
            return "VLAdapt " + (dtype == ScalarType.Float ? "f32" : "bf16") + (checkpointing ? " + checkpointing" : "")
                    + (naive ? " (adapters op by op)" : "");
        }
    }

    private static final String[] PYTORCH_MODES = {"f32", "autocast", "bf16"};
    private static final String[] PYTORCH_LABELS = {"PyTorch eager f32", "PyTorch bf16 autocast", "PyTorch autocast + bf16 weights"};

    /** Runs every configuration (each in its own process, rounds interleaved) and prints one table per shape. */
    public static void run(PrintStream out, int steps, int threads, int rounds, String python) throws IOException, InterruptedException {
        run(out, steps, threads, rounds, python, EnumSet.allOf(Shape.class), true);
    }

    /**
     * Runs the given shapes; {@code chat} adds the 7B-shaped chat measurement. On a CPU without native bf16 a
     * 7B-shaped run takes many minutes per configuration, so the shapes can be chosen one at a time.
     */
    public static void run(PrintStream out, int steps, int threads, int rounds, String python, Set<Shape> shapes, boolean chat)
            throws IOException, InterruptedException {
        VlOps.load();
        Threads.set(threads);
        out.printf("MMA training step (forward + backward + AdamW), random weights, %d threads; median of %d steps per run, "
                + "median of %d interleaved runs%n", threads, steps, rounds);
        out.println("CPU: " + CpuFeatures.current().describe());
        double[] rate = gemmRates();
        out.printf("GEMM rate measured here (linear, 128 x 4096 by 4096 x 11008): float32 %.0f GFLOP/s, bfloat16 %.0f GFLOP/s%n",
                rate[0] / 1e9, rate[1] / 1e9);
        Path script = python == null ? null : pytorchScript();
        for (Shape s : shapes) {
            Map<String, List<double[]>> runs = new LinkedHashMap<>();
            for (int r = 0; r < rounds; r++) {
                for (Variant v : Variant.values()) {
                    runs.computeIfAbsent(v.label(), k -> new ArrayList<>()).add(child(s, v.what, v.dtype, v.naive, v.checkpointing, steps, threads));
                }
                for (int m = 0; script != null && m < PYTORCH_MODES.length; m++) {
                    runs.computeIfAbsent(PYTORCH_LABELS[m], k -> new ArrayList<>()).add(pytorch(python, script, s, PYTORCH_MODES[m], steps, threads));
                }
            }
            double floor32 = s.stepFlops() / rate[0] * 1e3, floor16 = s.stepFlops() / rate[1] * 1e3;
            out.println();
            out.printf("%s: LLM %dx%d, ViT %dx%d@%d, batch %d x %d; matmul floor %.1f ms (f32), %.1f ms (bf16)%n", s.name().toLowerCase(Locale.ROOT),
                    s.llm.numLayers(), s.llm.hiddenSize(), s.vit.numLayers(), s.vit.hiddenSize(), s.vit.imageSize(), s.batch, s.tokens,
                    floor32, floor16);
            out.printf("  %-42s %10s %14s %12s %12s%n", "configuration", "ms/step", "range", "x floor", "peak RSS GB");
            Map<String, Double> med = new LinkedHashMap<>();
            runs.forEach((label, rs) -> {
                double[] ms = rs.stream().mapToDouble(x -> x[0]).toArray(), gb = rs.stream().mapToDouble(x -> x[1]).toArray();
                double m = Timer.median(ms);
                med.put(label, m);
                boolean f32 = label.contains("f32") && !label.contains("autocast");
                out.printf("  %-42s %10.1f %6.1f-%-7.1f %12.2f %12.2f%n", label, m, Arrays.stream(ms).min().orElse(0),
                        Arrays.stream(ms).max().orElse(0), m / (f32 ? floor32 : floor16), Timer.median(gb));
            });
            if (script != null) {
                double best = Math.min(med.get(PYTORCH_LABELS[0]), Math.min(med.get(PYTORCH_LABELS[1]), med.get(PYTORCH_LABELS[2])));
                out.printf("  ratios: VLAdapt f32 / PyTorch f32 = %.3f; VLAdapt bf16 / PyTorch's best mode (%.1f ms) = %.3f; "
                        + "VLAdapt's best / PyTorch's best = %.3f%n", med.get(Variant.F32.label()) / med.get(PYTORCH_LABELS[0]), best,
                        med.get(Variant.BF16.label()) / best, Math.min(med.get(Variant.F32.label()), med.get(Variant.BF16.label())) / best);
            }
            out.printf("  ratios: C++ op / adapters op by op (f32) = %.3f; bf16 / f32 = %.3f; checkpointing / plain (bf16) = %.3f%n",
                    med.get(Variant.F32.label()) / med.get(Variant.F32_NAIVE.label()), med.get(Variant.BF16.label()) / med.get(Variant.F32.label()),
                    med.get(Variant.BF16_CKPT.label()) / med.get(Variant.BF16.label()));
        }
        if (!chat) return;
        out.println();
        for (ScalarType t : new ScalarType[] {ScalarType.Float, ScalarType.BFloat16}) {
            double[] plain = child(Shape.LLAMA7B_STACK, "chat-unmerged", t, false, false, steps, threads);
            double[] merged = child(Shape.LLAMA7B_STACK, "chat-merged", t, false, false, steps, threads);
            out.printf("chat on the 7B-shaped stack (%s), 32-token prompt + image, 32 greedy tokens: unmerged %.1f tokens/s, merged %.1f "
                    + "tokens/s (merged/unmerged %.3f); peak RSS %.2f / %.2f GB%n", t == ScalarType.Float ? "float32" : "bfloat16", plain[0],
                    merged[0], merged[0] / plain[0], plain[1], merged[1]);
        }
    }

    /** GEMM rates (flop/s) in float32 and bfloat16 for a 7B-sized projection, median of 5. */
    static double[] gemmRates() {
        double[] r = new double[2];
        ScalarType[] types = {ScalarType.Float, ScalarType.BFloat16};
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (int i = 0; i < 2; i++) {
                Tensor x = torch.randn(new long[] {128, 4096}, Tensors.options(types[i]));
                Tensor w = torch.randn(new long[] {11008, 4096}, Tensors.options(types[i]));
                double[] t = new double[5];
                torch.linear(x, w);
                for (int k = 0; k < t.length; k++) {
                    try (PointerScope inner = new PointerScope()) {
                        long t0 = System.nanoTime();
                        torch.linear(x, w);
                        t[k] = (System.nanoTime() - t0) / 1e9;
                    }
                }
                r[i] = 2.0 * 128 * 4096 * 11008 / Timer.median(t);
            }
        }
        return r;
    }

    private static Path pytorchScript() throws IOException {
        Path inRepo = Path.of("bench", "pytorch_mma.py");
        if (Files.isRegularFile(inRepo)) return inRepo;
        try (var in = MmaBench.class.getResourceAsStream("/bench/pytorch_mma.py")) {
            if (in == null) throw new IllegalArgumentException("bench/pytorch_mma.py not found (run from the repository root)");
            Path tmp = Files.createTempFile("pytorch_mma", ".py");
            Files.write(tmp, in.readAllBytes());
            return tmp;
        }
    }

    private static double[] pytorch(String python, Path script, Shape s, String mode, int steps, int threads)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(python, script.toString(), "--shape", s.pytorchName, "--mode", mode, "--steps", String.valueOf(steps),
                "--threads", String.valueOf(threads)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        return lastLine(p, "PyTorch " + s + " " + mode);
    }

    private static double[] child(Shape s, String what, ScalarType dtype, boolean naive, boolean ckpt, int steps, int threads)
            throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx1g", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-cp", System.getProperty("java.class.path"),
                MmaBench.class.getName(), s.name(), what, String.valueOf(steps), String.valueOf(threads), dtype.name(), String.valueOf(naive),
                String.valueOf(ckpt)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        return lastLine(p, "benchmark child " + s + " " + what + " " + dtype);
    }

    private static double[] lastLine(Process p, String what) throws IOException, InterruptedException {
        String result = new String(p.getInputStream().readAllBytes()).strip();
        if (p.waitFor() != 0 || result.isEmpty()) throw new IllegalStateException(what + " failed");
        String[] parts = result.substring(result.lastIndexOf('\n') + 1).split(" ");
        return new double[] {Double.parseDouble(parts[0]), Double.parseDouble(parts[1])};
    }

    /** Child: prints "value peakRssGB" (value: median ms per step, or tokens/s). */
    public static void main(String[] args) throws IOException {
        VlOps.load();
        Threads.set(Integer.parseInt(args[3]));
        Shape s = Shape.valueOf(args[0]);
        String what = args[1];
        int steps = Integer.parseInt(args[2]);
        ScalarType dtype = ScalarType.valueOf(args[4]);
        boolean naive = Boolean.parseBoolean(args[5]), ckpt = Boolean.parseBoolean(args[6]);
        Path tokDir = Files.createTempDirectory("vladapt-bench-tok");
        WordTokenizerBuilder.write(tokDir, List.of("Image: N/A Question Context Options Response The answer is"), 1);
        try (TextTokenizer tok = TextTokenizer.load(tokDir); LlamaModel llm = RandomInit.llama(s.llm, 1, dtype);
             ClipVisionModel vit = RandomInit.clip(s.vit, 2, dtype)) {
            AdapterSettings a = new AdapterSettings(2, 1.0, 10.0, 0.1);
            MmaConfig mc = new MmaConfig(s.llm.numLayers(), s.llm.hiddenSize(), s.vit.numLayers(), s.vit.hiddenSize(), 8, a, a, 128,
                    s.visualTokens, false);
            try (MmaModel m = new MmaModel(llm, vit, MmaAdapters.init(mc, 3), tok)) {
                trainedLooking(m);
                double value = what.equals("train") ? trainSteps(m, s, steps, naive, ckpt) : chat(m, s, what.endsWith("-merged"));
                System.out.println(value + " " + LoadBench.status("VmHWM") / 1e9);
            }
        }
    }

    /** Non-zero experts, as after training (zero-initialised ones would not change the work, but be honest). */
    private static void trainedLooking(MmaModel m) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            m.adapters().params().asMap().forEach((n, p) -> {
                if (n.contains("conv_B") || n.contains("conv_D")) p.copy_(torch.randn(io.vladapt.ext.OpCheck.shape(p),
                        Tensors.options(ScalarType.Float)).mul(new Scalar(0.01)));
            });
        }
    }

    private static MmaBatch batch(MmaModel m, Shape s, Random rnd) {
        List<MmaModel.Encoded> enc = new ArrayList<>();
        List<Tensor> images = new ArrayList<>();
        int slot = m.visualSlot(), k = m.config().visualTokens();
        for (int i = 0; i < s.batch; i++) {
            boolean image = i % 2 == 0;
            long[] ids = new long[s.tokens];
            for (int j = 0; j < ids.length; j++) ids[j] = 3 + rnd.nextInt(s.llm.vocabSize() - 3);
            ids[0] = 1;
            if (image) Arrays.fill(ids, slot, slot + k, 0);
            enc.add(new MmaModel.Encoded(ids, s.tokens - Shape.SUPERVISED, image));
            images.add(image ? torch.randn(new long[] {3, s.vit.imageSize(), s.vit.imageSize()}, Tensors.options(ScalarType.Float)) : null);
        }
        return MmaBatch.of(enc, images, false, 0);
    }

    private static double trainSteps(MmaModel m, Shape s, int steps, boolean naive, boolean ckpt) {
        m.useNaiveOps(naive);
        Random rnd = new Random(0);
        double[] ms = new double[steps];
        try (AdamW opt = AdamW.lavin(m.adapters().params(), 0.02)) {
            for (int i = -2; i < steps; i++) {
                try (PointerScope scope = new PointerScope()) {
                    MmaBatch b = batch(m, s, rnd);
                    long t0 = System.nanoTime();
                    if (ckpt) m.lossAndBackwardCheckpointed(b, 1.0, true);
                    else m.loss(b, true).backward();
                    opt.step(1e-3);
                    opt.zeroGrad();
                    if (i >= 0) ms[i] = (System.nanoTime() - t0) / 1e6;
                }
            }
        }
        return Timer.median(ms);
    }

    private static double chat(MmaModel m, Shape s, boolean merged) {
        try (MmaInference inf = new MmaInference(m, merged); PointerScope scope = new PointerScope()) {
            Tensor img = torch.randn(new long[] {3, s.vit.imageSize(), s.vit.imageSize()}, Tensors.options(ScalarType.Float));
            MmaModel.Encoded prompt = m.encode("Question: what is in the picture? Response:", null, true);
            long[] ids = Arrays.copyOf(prompt.ids(), prompt.ids().length + 32 - prompt.ids().length % 32);
            for (int i = prompt.ids().length; i < ids.length; i++) ids[i] = 5;
            List<io.vladapt.mma.MmaExample> one = List.of(new io.vladapt.mma.MmaExample(new MmaModel.Encoded(ids, ids.length, true), img));
            GenerationConfig g = GenerationConfig.greedy(32).ignoringEos();
            inf.generateEncoded(one, GenerationConfig.greedy(2).ignoringEos(), null);       // warm-up (and merging)
            double[] rates = new double[3];
            for (int r = 0; r < rates.length; r++) {
                long t0 = System.nanoTime();
                int n = inf.generateEncoded(one, g, null).get(0).length;
                rates[r] = n / ((System.nanoTime() - t0) / 1e9);
            }
            return Timer.median(rates);
        }
    }
}
