package io.vladapt.quant;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** References written with plain torch ops, independent of the C++ code they check. */
final class QuantRef {
    private QuantRef() {}

    /** (out, in) float64 = (q - zero) * scale, unpacking the nibbles with shifts and masks. */
    static Tensor dequantize(QuantizedWeight w) {
        long out = w.outFeatures(), in = w.inFeatures();
        Tensor codes;
        Tensor zero = w.zero() == null ? null : w.zero().to(ScalarType.Double);
        Tensor scale = w.scale().to(ScalarType.Double);
        if (w.scheme().bits() == 8) {
            codes = w.q().to(ScalarType.Double);
            if (zero != null) codes = codes.sub(zero.unsqueeze(1));
            return codes.mul(scale.unsqueeze(1));
        }
        TensorVector nibbles = new TensorVector();
        for (int i = 0; i < 8; i++) nibbles.push_back(torch.bitwise_right_shift(w.q(), new Scalar(4 * i)).bitwise_and(new Scalar(15)));
        codes = torch.stack(nibbles, 2).reshape(out, in).to(ScalarType.Double).sub(new Scalar(8));  // (out, in) in [-8, 7]
        long g = w.scheme().group();
        if (zero != null) codes = codes.sub(zero.repeat_interleave(g, new org.bytedeco.pytorch.LongOptional(1), new org.bytedeco.pytorch.LongOptional()));
        return codes.mul(scale.repeat_interleave(g, new org.bytedeco.pytorch.LongOptional(1), new org.bytedeco.pytorch.LongOptional()));
    }

    /** x (m, k) as the VNNI path sees it: int8 in blocks of 32 with scale max|x| / 127. */
    static Tensor fakeQuantActivations(Tensor x) {
        long m = x.size(0), k = x.size(1), kp = (k + 31) / 32 * 32;
        Tensor xf = x.to(ScalarType.Float);
        if (kp != k) xf = torch.constant_pad_nd(xf, new long[] {0, kp - k});
        Tensor blocks = xf.view(m, kp / 32, 32);
        Tensor amax = blocks.abs().amax(new long[] {2}, true);                       // (m, k/32, 1)
        Tensor inv = torch.where(amax.gt(new Scalar(0.0)), torch.full_like(amax, new Scalar(127.0)).div(amax),
                torch.zeros_like(amax));
        Tensor q = blocks.mul(inv).round().clamp(new org.bytedeco.pytorch.ScalarOptional(new Scalar(-127.0)),
                new org.bytedeco.pytorch.ScalarOptional(new Scalar(127.0)));
        Tensor xs = amax.div(new Scalar(127.0));
        return q.mul(xs).view(m, kp).narrow(1, 0, k);
    }

    /** max |a - b| / max |b|: the error relative to the output's scale. */
    static double relErr(Tensor a, Tensor b) {
        Tensor ad = a.detach().to(ScalarType.Double), bd = b.detach().to(ScalarType.Double);
        double scale = Math.max(1e-30, bd.abs().max().item_double());
        return ad.sub(bd).abs().max().item_double() / scale;
    }

    /** max |y - ref| / (max_n |w_n| * max_m |x_m|) with 2-norms of weight rows and activation rows. */
    static double dotErr(Tensor y, Tensor ref, Tensor w, Tensor x) {
        Tensor wd = w.to(ScalarType.Double), xd = x.to(ScalarType.Double);
        double wn = wd.mul(wd).sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional()).sqrt().max().item_double();
        double xn = xd.mul(xd).sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional()).sqrt().max().item_double();
        return y.to(ScalarType.Double).sub(ref.to(ScalarType.Double)).abs().max().item_double() / Math.max(1e-30, wn * xn);
    }
}
