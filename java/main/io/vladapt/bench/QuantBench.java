package io.vladapt.bench;

import io.vladapt.ext.Scopes;
import io.vladapt.ext.Threads;
import io.vladapt.ext.VlOps;
import io.vladapt.quant.QuantKernels;
import io.vladapt.quant.QuantScheme;
import io.vladapt.quant.QuantizedLinear;
import io.vladapt.quant.QuantizedWeight;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Kernel-level decode and prefill benchmark of the quantised linear layers on LLaMA-7B's matrix shapes
 * (README "Quantised backbones"). Random weights, bf16 activations, medians over interleaved rounds:
 * <ol>
 *   <li>memory bandwidth: a plain streaming read (vl_stream_read over a buffer larger than any cache);</li>
 *   <li>GEMV (one activation row, decode): bf16 weights through aten::linear against int8 and int4 through
 *       the kernels, each streaming its own copy of several 7B layers (more than any cache holds); weight
 *       GB/s, and the 7B decode rate that rate gives (weights of 32 layers + embeddings-sized head per token),
 *       next to the bound the measured bandwidth gives;</li>
 *   <li>GEMM (prefill): one 7B layer's seven matrices at 128 and 512 rows: bf16 aten::linear (oneDNN)
 *       against the AMX kernel and against dequantise-blocks + aten::linear.</li>
 * </ol>
 */
public final class QuantBench {
    /** One weight matrix of a LLaMA-7B layer: (out, in). */
    record Mat(String name, long out, long in) {}

    static final List<Mat> LAYER = List.of(new Mat("q_proj", 4096, 4096), new Mat("k_proj", 4096, 4096),
            new Mat("v_proj", 4096, 4096), new Mat("o_proj", 4096, 4096), new Mat("gate_proj", 11008, 4096),
            new Mat("up_proj", 11008, 4096), new Mat("down_proj", 4096, 11008));
    static final long LAYERS_7B = 32, VOCAB = 32000, HIDDEN = 4096;

    /** A weight format under test: bf16 dense, or a quantisation scheme. */
    record Format(String label, QuantScheme scheme) {
        long bytes(long out, long in) {
            return scheme == null ? 2 * out * in : scheme.bytes(out, in);
        }

        long layerBytes() {
            return LAYER.stream().mapToLong(m -> bytes(m.out(), m.in())).sum();
        }

        /** Weight bytes one 7B decode step reads: 32 layers and the output head. */
        long tokenBytes() {
            return LAYERS_7B * layerBytes() + bytes(VOCAB, HIDDEN);
        }
    }

    private final PrintStream out;
    private final int rounds;
    private final double setGb;
    private final List<Format> formats;

    public QuantBench(PrintStream out, int rounds, double setGb, List<QuantScheme> schemes) {
        this.out = out;
        this.rounds = rounds;
        this.setGb = setGb;
        this.formats = new ArrayList<>();
        formats.add(new Format("bf16", null));
        for (QuantScheme s : schemes) formats.add(new Format(s.toString(), s));
    }

    public void run() {
        out.println("VLAdapt quantised-kernel benchmark (LLaMA-7B matrix shapes, random weights, bf16 activations)");
        out.println("CPU: " + QuantKernels.describeCpu());
        out.println(Threads.describe() + "; kernel path (auto): " + QuantKernels.active().name().toLowerCase()
                + "; medians over " + rounds + " interleaved rounds");
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            decode();
            for (int rows : new int[] {128, 512}) prefill(rows);
        }
    }

    /** Weights for one format: as many whole 7B layers as fill setGb (at least one). */
    private List<Runnable> decodeSet(Format f, Tensor x4096, Tensor x11008, long[] bytesOut) {
        long layers = Math.max(1, (long) Math.ceil(setGb * 1e9 / f.layerBytes()));
        List<Runnable> calls = new ArrayList<>();
        long bytes = 0;
        torch.manual_seed(1);
        for (long l = 0; l < layers; l++) {
            for (Mat m : LAYER) {
                Tensor x = m.in() == 4096 ? x4096 : x11008;
                bytes += f.bytes(m.out(), m.in());
                calls.add(layerCall(f, m, x, "layers." + l + "." + m.name() + ".weight"));
            }
        }
        bytesOut[0] = bytes;
        return calls;
    }

    /** y = x W^T for a random W in format f: bf16 through aten::linear, else the quantised kernels. */
    private static Runnable layerCall(Format f, Mat m, Tensor x, String name) {
        if (f.scheme() == null) {
            Tensor w = Scopes.keepOnly(() -> randomWeight(m).to(ScalarType.BFloat16));
            return () -> torch.linear(x, w);
        }
        QuantizedWeight q = Scopes.keepOnly(() -> QuantizedWeight.quantize(name, randomWeight(m), f.scheme()), QuantizedWeight::tensors);
        QuantizedLinear lin = new QuantizedLinear(q, null);
        return () -> lin.forwardKernel(x);
    }

    private static Tensor randomWeight(Mat m) {
        return torch.randn(new long[] {m.out(), m.in()}).mul(new Scalar(0.02));
    }

    private void decode() {
        Tensor x4096 = torch.randn(new long[] {1, 4096}).to(ScalarType.BFloat16);
        Tensor x11008 = torch.randn(new long[] {1, 11008}).to(ScalarType.BFloat16);
        List<Runnable> passes = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        List<Long> bytes = new ArrayList<>();
        List<Format> of = new ArrayList<>();
        for (Format f : formats) {
            long[] b = new long[1];
            List<Runnable> set = decodeSet(f, x4096, x11008, b);
            List<QuantKernels.Path> paths = f.scheme() == null ? java.util.Collections.singletonList(null) : pathsFor();
            for (QuantKernels.Path p : paths) {
                passes.add(() -> {
                    try (QuantKernels.Forced forced = p == null ? null : QuantKernels.force(p)) {
                        for (Runnable r : set) r.run();
                    }
                });
                labels.add(f.label() + (p == null ? " (aten::linear)" : " (" + (p == QuantKernels.Path.AMX ? "vnni" : p.name().toLowerCase()) + ")"));
                bytes.add(b[0]);
                of.add(f);
            }
        }
        // the bound: a plain streaming read of a buffer as large, timed in the same interleaved rounds
        long readBytes = (long) (setGb * 1e9) / 8 * 8;
        Tensor buf = torch.ones(new long[] {readBytes / 4});
        passes.add(0, () -> VlOps.vl_stream_read(buf));
        double[] all = Timer.medianMicros(1, rounds, 1, passes.toArray(new Runnable[0]));
        double bw = readBytes / (all[0] * 1e3);
        double[] us = java.util.Arrays.copyOfRange(all, 1, all.length);
        passes.remove(0);
        out.printf("%nMemory bandwidth, streaming read (vl_stream_read: 64-bit loads over %.1f GB, the kernels' thread "
                + "schedule, in the same rounds as the GEMVs): %.1f GB/s%n", setGb, bw);
        out.printf("%nGEMV, 1 row (decode): each variant streams %.1f+ GB of its own weights per pass%n", setGb);
        out.printf("%-22s %10s %9s %14s %16s %14s %10s%n", "weights (path)", "ms/pass", "GB/s", "% of bandwidth",
                "7B tok/s equiv.", "7B bound tok/s", "vs bf16");
        double bf16Rate = 0;
        for (int i = 0; i < passes.size(); i++) {
            Format f = of.get(i);
            double gbs = bytes.get(i) / (us[i] * 1e3);
            double tokens = gbs * 1e9 / f.tokenBytes(), bound = bw * 1e9 / f.tokenBytes();
            if (f.scheme() == null) bf16Rate = tokens;
            out.printf("%-22s %10.1f %9.1f %13.0f%% %16.2f %14.2f %9.2fx%n", labels.get(i), us[i] / 1e3, gbs, 100 * gbs / bw, tokens,
                    bound, tokens / bf16Rate);
        }
        out.printf("(7B decode reads %.2f GB (bf16) per token%s)%n", formats.get(0).tokenBytes() / 1e9,
                formats.stream().skip(1).map(f -> String.format(", %.2f GB (%s)", f.tokenBytes() / 1e9, f.label())).reduce("", String::concat));
    }

    /** The GEMV paths to compare: the automatic one and, where present, AVX-512 without VNNI. */
    private static List<QuantKernels.Path> pathsFor() {
        List<QuantKernels.Path> ps = new ArrayList<>();
        List<QuantKernels.Path> avail = QuantKernels.available();
        ps.add(avail.get(avail.size() - 1));
        if (avail.contains(QuantKernels.Path.AVX512) && ps.get(0) != QuantKernels.Path.AVX512) ps.add(QuantKernels.Path.AVX512);
        return ps;
    }

    private void prefill(int rows) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(2);
            Tensor x4096 = torch.randn(new long[] {rows, 4096}).to(ScalarType.BFloat16);
            Tensor x11008 = torch.randn(new long[] {rows, 11008}).to(ScalarType.BFloat16);
            List<Runnable> variants = new ArrayList<>();
            List<String> labels = new ArrayList<>();
            for (Format f : formats) {
                List<Runnable> layer = new ArrayList<>();
                for (Mat m : LAYER) {
                    layer.add(layerCall(f, m, m.in() == 4096 ? x4096 : x11008, m.name() + ".weight"));
                }
                if (f.scheme() == null) {
                    variants.add(() -> layer.forEach(Runnable::run));
                    labels.add("bf16 (aten::linear)");
                    continue;
                }
                List<QuantKernels.Path> avail = QuantKernels.available();
                QuantKernels.Path best = avail.get(avail.size() - 1);
                for (QuantKernels.Path p : best == QuantKernels.Path.AMX
                        ? List.of(QuantKernels.Path.AMX, QuantKernels.Path.VNNI) : List.of(best)) {
                    variants.add(() -> {
                        try (QuantKernels.Forced forced = QuantKernels.force(p)) {
                            layer.forEach(Runnable::run);
                        }
                    });
                    labels.add(f.label() + (p == QuantKernels.Path.AMX ? " (amx)" : " (dequantise + aten::linear)"));
                }
            }
            double[] us = Timer.medianMicros(1, rounds, 1, variants.toArray(new Runnable[0]));
            double flops = 2.0 * rows * LAYER.stream().mapToLong(m -> m.out() * m.in()).sum();
            out.printf("%nGEMM, %d rows (prefill): one 7B layer's seven matrices%n", rows);
            out.printf("%-38s %10s %10s %10s%n", "weights (path)", "ms/layer", "GFLOP/s", "vs bf16");
            for (int i = 0; i < variants.size(); i++) {
                out.printf("%-38s %10.1f %10.0f %9.2fx%n", labels.get(i), us[i] / 1e3, flops / (us[i] * 1e3), us[0] / us[i]);
            }
        }
    }
}
