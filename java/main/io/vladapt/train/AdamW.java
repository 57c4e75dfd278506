package io.vladapt.train;

import io.vladapt.io.SafetensorsFile;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.nn.Params;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * AdamW with PyTorch's update (decoupled decay p *= 1 - lr wd, bias-corrected moments), betas
 * (0.9, 0.95) by default as LaVIN uses, no decay on biases and tensors of rank <= 1. Written in Java
 * over libtorch ops so that its whole state (moments, step) is two named tensor maps and a counter,
 * saved with the checkpoint: a resumed run continues bit for bit.
 */
public final class AdamW implements AutoCloseable {
    private final Params params;
    private final double beta1, beta2, eps, weightDecay;
    private final Params expAvg = new Params(), expAvgSq = new Params();
    private long step;

    public AdamW(Params params, double beta1, double beta2, double eps, double weightDecay) {
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        try (PointerScope scope = new PointerScope()) {
            params.asMap().forEach((n, p) -> {
                expAvg.put(n, torch.zeros_like(p));
                expAvgSq.put(n, torch.zeros_like(p));
            });
        }
    }

    /** LaVIN's settings: betas (0.9, 0.95), eps 1e-8. */
    public static AdamW lavin(Params params, double weightDecay) {
        return new AdamW(params, 0.9, 0.95, 1e-8, weightDecay);
    }

    static boolean decays(String name, Tensor p) {
        return p.dim() > 1 && !name.endsWith(".bias");
    }

    public long steps() {
        return step;
    }

    /** The moment tensors in a fixed order: a data-parallel run copies rank 0's to every rank at its start. */
    java.util.List<Tensor> moments() {
        java.util.List<Tensor> all = new java.util.ArrayList<>(expAvg.asMap().values());
        all.addAll(expAvgSq.asMap().values());
        return all;
    }

    /** Sets the update counter (bias correction) to rank 0's. */
    void restoreSteps(long steps) {
        step = steps;
    }

    /** One update with the gradients in place; parameters without a gradient are skipped. */
    public void step(double lr) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : params.asMap().entrySet()) {
                Tensor p = e.getValue(), grad = p.grad();
                if (!grad.defined()) continue;
                if (weightDecay > 0 && decays(e.getKey(), p)) p.mul_(new Scalar(1 - lr * weightDecay));
                Tensor m = expAvg.get(e.getKey()), v = expAvgSq.get(e.getKey());
                m.mul_(new Scalar(beta1)).add_(grad, new Scalar(1 - beta1));
                v.mul_(new Scalar(beta2)).addcmul_(grad, grad, new Scalar(1 - beta2));
                Tensor denom = v.sqrt().div(new Scalar(Math.sqrt(bc2))).add_(new Scalar(eps));
                p.addcdiv_(m, denom, new Scalar(-lr / bc1));
            }
        }
    }

    /** Clears every gradient (zeroed in place, so a resumed run sees the same tensors). */
    public void zeroGrad() {
        for (Tensor p : params.asMap().values()) {
            Tensor g = p.grad();
            if (g.defined()) g.zero_();
        }
    }

    /** Clips the global gradient norm; returns the norm before clipping. */
    public double clip(double maxNorm) {
        TensorVector grads = new TensorVector();
        for (Tensor p : params.asMap().values()) grads.push_back(p);
        return torch.clip_grad_norm_(grads, maxNorm);
    }

    public void save(Path file) throws IOException {
        Map<String, Tensor> all = new LinkedHashMap<>();
        expAvg.asMap().forEach((n, t) -> all.put("exp_avg." + n, t));
        expAvgSq.asMap().forEach((n, t) -> all.put("exp_avg_sq." + n, t));
        SafetensorsWriter.write(file, all, Map.of("step", String.valueOf(step)));
    }

    public void load(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file); PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (String n : params.asMap().keySet()) {
                expAvg.get(n).copy_(f.load("exp_avg." + n));
                expAvgSq.get(n).copy_(f.load("exp_avg_sq." + n));
            }
            step = Long.parseLong(f.metadata().getOrDefault("step", "0"));
        }
    }

    @Override
    public void close() {
        expAvg.close();
        expAvgSq.close();
    }
}
