package io.vladapt.bench;

import static org.bytedeco.pytorch.global.torch.linear;

import io.vladapt.mma.AdapterSettings;
import io.vladapt.mma.MmAdapterOp;
import io.vladapt.mma.MmAdapterWeights;
import io.vladapt.mma.NaiveAdapters;
import io.vladapt.mma.Reparam;
import io.vladapt.nn.LinearWeights;
import java.io.PrintStream;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * The native-core benchmark (README: "Benchmarks"). Float32 on CPU, LaVIN's adapter settings
 * (groups 2, scale 1, temperature 10, dropout 0.1 while training):
 * <ol>
 *   <li>MM-Adapter forward+backward per call: the C++ op vs LaVIN's op-by-op composition from Java
 *       (the baseline), plus the C++ op's own formulation composed from Java for reference;</li>
 *   <li>inference per call: a d x d projection with the adapter merged into it vs the bare
 *       projection, and the adapter itself as the fused no-grad kernel vs the naive composition.</li>
 * </ol>
 */
public final class OpsBench {
    /** A benchmark shape: batch, tokens, width, adapter rank. */
    public record Size(long b, long t, long d, long r) {
        @Override
        public String toString() {
            return "(" + b + "," + t + "," + d + "," + r + ")";
        }
    }

    public static final List<Size> SIZES = List.of(new Size(4, 16, 256, 8), new Size(1, 64, 4096, 8));
    private static final AdapterSettings SETTINGS = new AdapterSettings(2, 1.0, 10.0, 0.1);
    private static final double TARGET_BATCH_MICROS = 20_000;

    private final PrintStream out;
    private final int rounds;

    public OpsBench(PrintStream out, int rounds) {
        this.out = out;
        this.rounds = rounds;
    }

    public void run() {
        String wait = System.getenv("OMP_WAIT_POLICY");
        out.printf("VLAdapt native-core benchmark: float32, CPU, %s, OMP_WAIT_POLICY = %s%n",
                io.vladapt.ext.Threads.describe(), wait != null ? wait : "PASSIVE (VLAdapt's default)");
        out.printf("MM-Adapter settings: groups %d, scale %.1f, temperature %.0f, dropout %.1f (training)%n",
                SETTINGS.groups(), SETTINGS.scale(), SETTINGS.temperature(), SETTINGS.dropout());
        out.printf("Median microseconds per call over %d interleaved rounds.%n%n", rounds);
        out.println("Forward+backward of one MM-Adapter");
        out.printf("%-16s %10s %12s %12s %12s %14s%n", "(B,T,d,r)", "C++ op", "naive(LaVIN)", "Java(same)",
                "C++/naive", "C++/Java(same)");
        for (Size s : SIZES) trainingRow(s);
        out.println();
        out.println("Inference (no grad): projection W (d x d) after the adapter, routing fixed per modality.");
        out.println("The merged projection carries a bias b' = W (M A_b + c); 'W x + b' is a bare projection that");
        out.println("already has one (CLIP's q/k/v do; LLaMA's do not).");
        out.printf("%-16s %9s %9s %11s %12s %11s %14s %14s %12s%n", "(B,T,d,r)", "W x", "W x + b", "W' x + b'",
                "merged/bare", "merged/W+b", "fused adapter", "naive adapter", "fused/naive");
        for (Size s : SIZES) inferenceRow(s);
    }

    private void trainingRow(Size s) {
        try (PointerScope setup = new PointerScope()) {
            Fixture f = new Fixture(s, true);
            JavaComposedMmAdapter javaSame = new JavaComposedMmAdapter(f.x, s.d(), SETTINGS.groups());
            Runnable cpp = () -> backward(MmAdapterOp.forward(f.x, f.z, f.w, SETTINGS, true), f.cot);
            Runnable naive = () -> backward(NaiveAdapters.mmAdapter(f.x, f.z, f.w, SETTINGS, true), f.cot);
            Runnable same = () -> backward(javaSame.forward(f.x, f.z, f.w, SETTINGS, true), f.cot);
            double[] m = measure(cpp, naive, same);
            out.printf("%-16s %10.1f %12.1f %12.1f %12.3f %14.3f%n", s, m[0], m[1], m[2], m[0] / m[1], m[0] / m[2]);
        }
    }

    private void inferenceRow(Size s) {
        try (PointerScope setup = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            Fixture f = new Fixture(s, false);
            Tensor proj = torch.randn(new long[] {s.d(), s.d()}, f.opts).mul(new Scalar(1.0 / Math.sqrt(s.d())));
            Tensor route = MmAdapterOp.route(f.z, f.w.rW(), f.w.rB(), SETTINGS.temperature());      // (B, 2)
            if (s.b() != 1) route = route.narrow(0, 0, 1).expand(s.b(), 2).contiguous();            // one modality
            LinearWeights merged = Reparam.merge(new LinearWeights(proj, null), f.w, route.select(0, 0), SETTINGS);
            Tensor r = route;
            Tensor bias = torch.randn(new long[] {s.d()}, f.opts);
            Runnable bare = () -> linear(f.x, proj);
            Runnable bareBias = () -> linear(f.x, proj, new TensorOptional(bias));
            Runnable mergedProj = () -> linear(f.x, merged.weight(), new TensorOptional(merged.bias()));
            Runnable fused = () -> MmAdapterOp.inferFused(f.x, r, f.w, SETTINGS);
            Runnable naive = () -> NaiveAdapters.mmAdapterRouted(f.x, r, f.w, SETTINGS, false);
            double[] m = measure(bare, bareBias, mergedProj, fused, naive);
            out.printf("%-16s %9.1f %9.1f %11.1f %12.3f %11.3f %14.1f %14.1f %12.3f%n", s, m[0], m[1], m[2], m[2] / m[0],
                    m[2] / m[1], m[3], m[4], m[3] / m[4]);
        }
    }

    /** Picks calls per round so a batch takes about 20 ms, then times all variants interleaved. */
    private double[] measure(Runnable... variants) {
        double slowest = 0;
        for (Runnable v : variants) {
            try (PointerScope scope = new PointerScope()) {
                for (int i = 0; i < 3; i++) v.run();
                long t0 = System.nanoTime();
                v.run();
                slowest = Math.max(slowest, (System.nanoTime() - t0) / 1e3);
            }
        }
        int calls = (int) Math.max(1, Math.min(2000, TARGET_BATCH_MICROS / Math.max(1, slowest)));
        return Timer.medianMicros(calls * 2, rounds, calls, variants);
    }

    private static void backward(Tensor y, Tensor cot) {
        y.backward(cot, new BoolOptional(), false, new TensorArrayRefOptional());
    }

    /** Inputs and trained-looking (non-zero) adapter weights for one size. */
    private static final class Fixture {
        final TensorOptions opts = new TensorOptions().dtype(new org.bytedeco.pytorch.ScalarTypeOptional(
                torch.ScalarType.Float));
        final Tensor x, z, cot;
        final MmAdapterWeights w;

        Fixture(Size s, boolean grad) {
            torch.manual_seed(0);
            long k = s.r() / SETTINGS.groups();
            x = param(grad, 1.0, s.b(), s.t(), s.d());
            z = param(grad, 1.0, s.b(), s.d());
            w = new MmAdapterWeights(param(grad, 0.02, s.r(), s.d()), param(grad, 0.02, s.r()),
                    param(grad, 0.02, s.d(), k), param(grad, 0.02, s.d()),
                    param(grad, 0.02, s.d(), k), param(grad, 0.02, s.d()),
                    param(grad, 0.02, 2, s.d()), param(grad, 0.02, 2));
            cot = torch.randn(new long[] {s.b(), s.t(), s.d()}, opts);
        }

        private Tensor param(boolean grad, double std, long... shape) {
            return torch.randn(shape, opts).mul(new Scalar(std)).set_requires_grad(grad);
        }
    }
}
