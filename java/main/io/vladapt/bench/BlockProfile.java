package io.vladapt.bench;

import io.vladapt.ext.CpuFeatures;
import io.vladapt.ext.Threads;
import io.vladapt.ext.VlOps;
import io.vladapt.mma.AdapterSettings;
import io.vladapt.mma.MmAdapterOp;
import io.vladapt.mma.MmAdapterWeights;
import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.Masks;
import io.vladapt.nn.RandomInit;
import io.vladapt.nn.Tensors;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Where a LLaMA-7B block's training step goes, op by op: each piece of the block (norms, the adapter,
 * the projections, RoPE, attention, the MLP) timed forward and forward + backward on its own, in float32
 * and bfloat16, medians of interleaved rounds; then the whole block the same way, so that the sum of
 * the parts can be set against it. bench/pytorch_mma.py --profile prints the same table for PyTorch.
 */
public final class BlockProfile {
    private BlockProfile() {}

    public static void run(PrintStream out, int batch, int tokens, int rounds) {
        VlOps.load();
        out.printf("LLaMA-7B block, batch %d x %d tokens, %s; median ms of %d rounds (forward | forward + backward to the inputs)%n", batch,
                tokens, Threads.describe(), rounds);
        out.println("CPU: " + CpuFeatures.current().describe());
        LlamaConfig c = new LlamaConfig(32000, 4096, 11008, 1, 32, 32, 128, 1e-6, 10000.0, null, 4096, false, false, 1, List.of(2), 0,
                "float32");
        Map<String, double[][]> rows = new LinkedHashMap<>();
        ScalarType[] types = {ScalarType.Float, ScalarType.BFloat16};
        for (int ti = 0; ti < types.length; ti++) {
            ScalarType t = types[ti];
            try (PointerScope scope = new PointerScope(); LlamaModel m = RandomInit.llama(c, 1, t)) {
                Map<String, Supplier<Tensor>> parts = parts(m, t, batch, tokens);
                for (Map.Entry<String, Supplier<Tensor>> e : parts.entrySet()) {
                    double[] r = time(e.getValue(), rounds);
                    rows.computeIfAbsent(e.getKey(), k -> new double[2][])[ti] = r;
                }
            }
        }
        out.printf("%-34s %10s %10s   %10s %10s%n", "part", "f32 fwd", "f32 f+b", "bf16 fwd", "bf16 f+b");
        rows.forEach((k, v) -> out.printf("%-34s %10.2f %10.2f   %10.2f %10.2f%n", k, v[0][0], v[0][1], v[1][0], v[1][1]));
    }

    /** Median ms of forward alone and of forward + backward (a random gradient into every input that requires grad). */
    private static double[] time(Supplier<Tensor> f, int rounds) {
        double[] fwd = new double[rounds], both = new double[rounds];
        for (int r = -1; r < rounds; r++) {
            try (PointerScope scope = new PointerScope()) {
                long t0 = System.nanoTime();
                try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
                    f.get();
                }
                long t1 = System.nanoTime();
                Tensor y = f.get();
                Tensor gy = torch.ones_like(y);
                y.backward(gy, new BoolOptional(), false, new TensorArrayRefOptional());
                long t2 = System.nanoTime();
                if (r >= 0) {
                    fwd[r] = (t1 - t0) / 1e6;
                    both[r] = (t2 - t1) / 1e6;
                }
            }
        }
        return new double[] {Timer.median(fwd), Timer.median(both)};
    }

    private static Map<String, Supplier<Tensor>> parts(LlamaModel m, ScalarType t, int b, int n) {
        long d = 4096, ffn = 11008, h = 32, hd = 128;
        var p = m.params();
        Tensor x = leaf(t, b, n, d), xf = leaf(t, b, n, ffn);
        Tensor q = leaf(t, b, h, n, hd), k = leaf(t, b, h, n, hd), v = leaf(t, b, h, n, hd);
        Tensor positions = torch.arange(new Scalar(n), Tensors.options(ScalarType.Long)).view(1, n).expand(b, n);
        Tensor mask = Masks.modalityCausal(Tensors.full(ScalarType.Bool, 1, b, n));
        LlamaModel.Pass pass = m.pass(positions, mask, null, null);
        AdapterSettings s = new AdapterSettings(2, 1.0, 10.0, 0.1);
        MmAdapterWeights w = new MmAdapterWeights(leaf(ScalarType.Float, 8, d), leaf(ScalarType.Float, 8), leaf(ScalarType.Float, d, 4),
                leaf(ScalarType.Float, d), leaf(ScalarType.Float, d, 4), leaf(ScalarType.Float, d), leaf(ScalarType.Float, 2, d),
                leaf(ScalarType.Float, 2));
        Tensor wq = p.get("model.layers.0.self_attn.q_proj.weight"), wg = p.get("model.layers.0.mlp.gate_proj.weight");
        Tensor wd = p.get("model.layers.0.mlp.down_proj.weight"), norm = p.get("model.layers.0.input_layernorm.weight");
        Map<String, Supplier<Tensor>> parts = new LinkedHashMap<>();
        parts.put("RMSNorm (x2 per block)", () -> m.rmsNorm(x, norm));
        parts.put("MM-Adapter (C++ op)", () -> MmAdapterOp.forward(x, x.select(1, 0), w, s, true));
        parts.put("q/k/v/o projection (x4)", () -> torch.linear(x, wq));
        parts.put("RoPE on q or k (x2)", () -> io.vladapt.nn.Rope.apply(q, pass.cosSin()[0], pass.cosSin()[1]));
        parts.put("SDPA, modality-causal mask", () -> torch.scaled_dot_product_attention(q, k, v, new TensorOptional(mask), 0.0, false,
                new DoubleOptional(), false));
        parts.put("SDPA in float32 (q, k, v cast)", () -> torch.scaled_dot_product_attention(q.to(ScalarType.Float), k.to(ScalarType.Float),
                v.to(ScalarType.Float), new TensorOptional(mask), 0.0, false, new DoubleOptional(), false).to(t));
        parts.put("attention as matmuls, f32 softmax", () -> {
            Tensor scores = torch.matmul(q, k.transpose(2, 3)).mul(new Scalar(1 / Math.sqrt(hd)));           // (B, H, T, T)
            Tensor masked = scores.to(ScalarType.Float).masked_fill(mask.logical_not(), new Scalar(Double.NEGATIVE_INFINITY));
            return torch.matmul(torch.softmax(masked, -1).to(t), v);
        });
        parts.put("gate or up projection (x2)", () -> torch.linear(x, wg));
        parts.put("SiLU(gate) * up", () -> torch.silu(xf).mul(xf));
        parts.put("down projection", () -> torch.linear(xf, wd));
        parts.put("whole block (with adapter)", () -> {
            LlamaModel.Pass withAdapter = m.pass(positions, mask, null,
                    (layer, normed) -> MmAdapterOp.forward(normed, normed.select(1, 0), w, s, true));
            return m.block(0, x, withAdapter);
        });
        return parts;
    }

    private static Tensor leaf(ScalarType t, long... shape) {
        return torch.randn(shape, Tensors.options(ScalarType.Float)).mul(new Scalar(0.5)).to(t).detach().set_requires_grad(true);
    }
}
