package io.vladapt.bench;

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
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * MMA training steps and chat speed with random weights:
 * <ul>
 *   <li>median step time (forward, backward, AdamW) and peak RSS for the demo's shapes and for a
 *       LLaMA-7B-shaped stack (d 4096, 32 heads, FFN 11008, vocab 32000) over a ViT-L/14-shaped one
 *       (d 1024, 224 px), a few blocks each, with the C++ MM-Adapter op and with LaVIN's op-by-op
 *       composition from Java. Each configuration runs in its own JVM so that peak RSS is its own;</li>
 *   <li>chat tokens/s on the 7B-shaped stack with merged and with unmerged adapters.</li>
 * </ul>
 */
public final class MmaBench {
    private MmaBench() {}

    /** The two model shapes. */
    enum Shape {
        DEMO(new LlamaConfig(256, 128, 352, 4, 4, 4, 32, 1e-5, 10000.0, null, 256, false, false, 1, List.of(2), 0, "float32"),
                new ClipVisionConfig(64, 128, 6, 4, 32, 8, 3, "quick_gelu", 1e-5), 16, 56, 6),
        LLAMA7B_STACK(new LlamaConfig(32000, 4096, 11008, 2, 32, 32, 128, 1e-6, 10000.0, null, 4096, false, false, 1, List.of(2), 0,
                "float32"), new ClipVisionConfig(1024, 4096, 2, 16, 224, 14, 3, "quick_gelu", 1e-5), 2, 64, 2);

        final LlamaConfig llm;
        final ClipVisionConfig vit;
        final int batch, tokens, visualTokens;

        Shape(LlamaConfig llm, ClipVisionConfig vit, int batch, int tokens, int visualTokens) {
            this.llm = llm;
            this.vit = vit;
            this.batch = batch;
            this.tokens = tokens;
            this.visualTokens = visualTokens;
        }
    }

    /** Runs every configuration in a child JVM and prints one table. */
    public static void run(PrintStream out, int steps, int threads) throws IOException, InterruptedException {
        out.printf("MMA training step (forward + backward + AdamW), random weights, float32, %d threads; median of %d steps%n",
                threads, steps);
        out.printf("%-44s %10s %10s %10s %12s%n", "configuration", "C++ op ms", "naive ms", "C++/naive", "peak RSS GB");
        for (Shape s : Shape.values()) {
            double[] cpp = child(s, "train-cpp", steps, threads), naive = child(s, "train-naive", steps, threads);
            out.printf("%-44s %10.1f %10.1f %10.3f %5.2f / %.2f%n", describe(s), cpp[0], naive[0], cpp[0] / naive[0], cpp[1], naive[1]);
        }
        out.println();
        double[] plain = child(Shape.LLAMA7B_STACK, "chat-unmerged", steps, threads);
        double[] merged = child(Shape.LLAMA7B_STACK, "chat-merged", steps, threads);
        out.printf("chat on the 7B-shaped stack, 32-token prompt + image, 32 greedy tokens: unmerged %.1f tokens/s, merged %.1f tokens/s "
                + "(merged/unmerged %.3f); peak RSS %.2f / %.2f GB%n", plain[0], merged[0], merged[0] / plain[0], plain[1], merged[1]);
    }

    private static String describe(Shape s) {
        return String.format("%s: LLM %dx%d, ViT %dx%d@%d, batch %d x %d", s.name().toLowerCase(), s.llm.numLayers(), s.llm.hiddenSize(),
                s.vit.numLayers(), s.vit.hiddenSize(), s.vit.imageSize(), s.batch, s.tokens);
    }

    private static double[] child(Shape s, String what, int steps, int threads) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx1g", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-cp", System.getProperty("java.class.path"),
                MmaBench.class.getName(), s.name(), what, String.valueOf(steps), String.valueOf(threads))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String result = new String(p.getInputStream().readAllBytes()).strip();
        if (p.waitFor() != 0) throw new IllegalStateException("benchmark child " + s + " " + what + " failed");
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
        Path tokDir = Files.createTempDirectory("vladapt-bench-tok");
        WordTokenizerBuilder.write(tokDir, List.of("Image: N/A Question Context Options Response The answer is"), 1);
        try (TextTokenizer tok = TextTokenizer.load(tokDir); LlamaModel llm = RandomInit.llama(s.llm, 1, ScalarType.Float);
             ClipVisionModel vit = RandomInit.clip(s.vit, 2, ScalarType.Float)) {
            AdapterSettings a = new AdapterSettings(2, 1.0, 10.0, 0.1);
            MmaConfig mc = new MmaConfig(s.llm.numLayers(), s.llm.hiddenSize(), s.vit.numLayers(), s.vit.hiddenSize(), 8, a, a, 128,
                    s.visualTokens, false);
            try (MmaModel m = new MmaModel(llm, vit, MmaAdapters.init(mc, 3), tok)) {
                trainedLooking(m);
                double value = what.startsWith("train") ? trainSteps(m, s, steps, what.endsWith("naive")) : chat(m, s, what.endsWith("merged"));
                System.out.println(value + " " + LoadBench.status("VmHWM") / 1e9);
            }
        }
    }

    /** Non-zero experts, as after training (zero-initialised ones would not change the work, but be honest). */
    private static void trainedLooking(MmaModel m) {
        try (PointerScope scope = new PointerScope(); org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
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
            enc.add(new MmaModel.Encoded(ids, s.tokens - 12, image));
            images.add(image ? torch.randn(new long[] {3, s.vit.imageSize(), s.vit.imageSize()}, Tensors.options(ScalarType.Float)) : null);
        }
        return MmaBatch.of(enc, images, false, 0);
    }

    private static double trainSteps(MmaModel m, Shape s, int steps, boolean naive) {
        m.useNaiveOps(naive);
        Random rnd = new Random(0);
        double[] ms = new double[steps];
        try (AdamW opt = AdamW.lavin(m.adapters().params(), 0.02)) {
            for (int i = -2; i < steps; i++) {
                try (PointerScope scope = new PointerScope()) {
                    MmaBatch b = batch(m, s, rnd);
                    long t0 = System.nanoTime();
                    m.loss(b, true).backward();
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
