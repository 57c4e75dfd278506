package io.vladapt.nn;

import static io.vladapt.nn.Tensors.options;

import io.vladapt.nn.LlamaConfig.RopeScaling;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Rotary position embedding in HF's rotate-half layout (Meta checkpoints are permuted on load to
 * match), with LLaMA 3.1 ("llama3") and linear frequency scaling. Frequencies are computed in
 * float32 with the same operations as transformers, so positions give the same angles bit for bit.
 */
public final class Rope implements AutoCloseable {
    private final Tensor invFreq;  // (hd/2) float32

    public Rope(LlamaConfig c) {
        int hd = c.headDim();
        Tensor exponents = torch.arange(new Scalar(0), new Scalar(hd), new Scalar(2), options(ScalarType.Long))
                .to(ScalarType.Float).div(new Scalar((float) hd));
        Tensor inv = torch.pow(new Scalar(c.ropeTheta()), exponents).reciprocal();      // 1 / theta^(2i/hd)
        invFreq = scale(inv, c.ropeScaling()).retainReference();
    }

    private static Tensor scale(Tensor inv, RopeScaling s) {
        if (s == null) return inv;
        if (s.type().equals("linear")) return inv.div(new Scalar(s.factor()));
        double lowWave = s.originalMaxPositions() / s.lowFreqFactor();
        double highWave = s.originalMaxPositions() / s.highFreqFactor();
        Tensor wavelen = inv.reciprocal().mul(new Scalar(2 * Math.PI));
        Tensor scaled = torch.where(wavelen.gt(new Scalar(lowWave)), inv.div(new Scalar(s.factor())), inv);
        Tensor smooth = wavelen.reciprocal().mul(new Scalar((double) s.originalMaxPositions()))
                .sub(new Scalar(s.lowFreqFactor())).div(new Scalar(s.highFreqFactor() - s.lowFreqFactor()));
        Tensor smoothed = smooth.neg().add(new Scalar(1.0)).mul(scaled).div(new Scalar(s.factor())).add(smooth.mul(scaled));
        Tensor medium = wavelen.lt(new Scalar(highWave)).logical_not().logical_and(wavelen.gt(new Scalar(lowWave)).logical_not());
        return torch.where(medium, smoothed, scaled);
    }

    /** cos and sin (B, 1, T, hd) for positions (B, T), in the given dtype. */
    public Tensor[] cosSin(Tensor positions, ScalarType dtype) {
        Tensor freqs = positions.to(ScalarType.Float).unsqueeze(-1).mul(Tensors.onDeviceOf(invFreq, positions));  // (B, T, hd/2)
        Tensor emb = torch.cat(new TensorVector(freqs, freqs), -1);                     // (B, T, hd)
        return new Tensor[] {emb.cos().to(dtype).unsqueeze(1), emb.sin().to(dtype).unsqueeze(1)};
    }

    /** x (B, H, T, hd) rotated: x cos + rotate_half(x) sin. */
    public static Tensor apply(Tensor x, Tensor cos, Tensor sin) {
        long half = x.size(3) / 2;
        Tensor x1 = x.narrow(3, 0, half), x2 = x.narrow(3, half, half);
        Tensor rotated = torch.cat(new TensorVector(x2.neg(), x1), -1);
        return x.mul(cos).add(rotated.mul(sin));
    }

    public Tensor invFreq() {
        return invFreq;
    }

    @Override
    public void close() {
        invFreq.releaseReference();
    }
}
