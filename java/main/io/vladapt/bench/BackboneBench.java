package io.vladapt.bench;

import io.vladapt.nn.GenerationConfig;
import io.vladapt.nn.Generator;
import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.RandomInit;
import io.vladapt.nn.Tensors;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Forward latency and generation speed of a mid-size random LLaMA (default d=1024, 8 layers, 16
 * heads, GQA 4 KV heads, FFN 2816, vocab 32000, float32) on this machine.
 */
public final class BackboneBench {
    private final PrintStream out;
    private final int rounds;

    public BackboneBench(PrintStream out, int rounds) {
        this.out = out;
        this.rounds = rounds;
    }

    public static LlamaConfig midSize(int hidden, int layers) {
        int heads = Math.max(1, hidden / 64);
        return new LlamaConfig(32000, hidden, (int) (hidden * 2.75), layers, heads, Math.max(1, heads / 4), 64, 1e-5,
                10000.0, null, 4096, false, false, 1, List.of(2), 0, "float32");
    }

    public void run(LlamaConfig c, int promptTokens, int newTokens) {
        out.printf("Random LLaMA: d=%d, %d layers, %d heads (%d KV), FFN %d, vocab %d, float32, %s%n",
                c.hiddenSize(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.intermediateSize(), c.vocabSize(),
                io.vladapt.ext.Threads.describe());
        try (LlamaModel m = RandomInit.llama(c, 0, ScalarType.Float)) {
            out.printf("parameters: %.1f M%n", m.params().count() / 1e6);
            try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                long[] ids = new long[promptTokens];
                for (int i = 0; i < ids.length; i++) ids[i] = 3 + (i * 7919L) % (c.vocabSize() - 3);
                Tensor input = Tensors.longs(ids).view(1, promptTokens);
                double[] fwd = Timer.medianMicros(2, rounds, 1, () -> m.forward(input, false));
                out.printf("forward, 1 x %d tokens: median %.1f ms (%.0f tokens/s)%n", promptTokens, fwd[0] / 1e3,
                        promptTokens / (fwd[0] / 1e6));
                List<long[]> prompt = List.of(java.util.Arrays.copyOf(ids, 16));
                Generator gen = new Generator(m, null);
                GenerationConfig greedy = GenerationConfig.greedy(newTokens).ignoringEos();
                gen.generate(prompt, greedy, null);  // warm-up
                List<Double> rates = new ArrayList<>();
                for (int r = 0; r < Math.max(3, rounds / 3); r++) {
                    long t0 = System.nanoTime();
                    int n = gen.generate(prompt, greedy, null).get(0).length;
                    rates.add(n / ((System.nanoTime() - t0) / 1e9));
                }
                double[] rs = rates.stream().mapToDouble(Double::doubleValue).toArray();
                out.printf("generation, 16-token prompt + %d new tokens (greedy, KV cache): median %.1f tokens/s over %d runs%n",
                        newTokens, Timer.median(rs), rs.length);
            }
        }
    }
}
