package io.vladapt.mma;

import static org.bytedeco.pytorch.global.torch.conv1d;
import static org.bytedeco.pytorch.global.torch.dropout;
import static org.bytedeco.pytorch.global.torch.linear;
import static org.bytedeco.pytorch.global.torch.softmax;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;

/**
 * The adapters written op by op from Java, exactly as LaVIN's PyTorch modules compute them
 * (transpose to (B, d, T), 1x1 Conv1d, dropout, grouped Conv1d, router, weighted sum, residual).
 * The reference the C++ ops are tested against, and the baseline they are benchmarked against.
 */
public final class NaiveAdapters {
    private static final long[] ONE = {1}, ZERO = {0};

    private NaiveAdapters() {}

    /** x + s * U(dropout(A x)). */
    public static Tensor repAdapter(Tensor x, RepAdapterWeights w, AdapterSettings s, boolean training) {
        Tensor xt = x.transpose(1, 2);                                             // (B, d, T)
        Tensor h = dropout(conv(xt, w.aW(), w.aB(), 1), s.dropout(), training);    // (B, r, T)
        Tensor u = conv(h, w.uW(), w.uB(), s.groups());                            // (B, d, T)
        return u.mul(new Scalar(s.scale())).add(xt).transpose(1, 2).contiguous();  // (B, T, d)
    }

    /** softmax((R z + R_b) / temperature) (B, 2). */
    public static Tensor route(Tensor z, Tensor rW, Tensor rB, double temperature) {
        return softmax(linear(z, rW, new TensorOptional(rB)).div(new Scalar(temperature)), -1);
    }

    /** LaVIN's RepAdapter_Router.forward. */
    public static Tensor mmAdapter(Tensor x, Tensor z, MmAdapterWeights w, AdapterSettings s, boolean training) {
        Tensor weight = route(z, w.rW(), w.rB(), s.temperature());                 // (B, 2)
        return mmAdapterRouted(x, weight, w, s, training);
    }

    /** The MM-Adapter with given routing weights (B, 2). */
    public static Tensor mmAdapterRouted(Tensor x, Tensor weight, MmAdapterWeights w, AdapterSettings s,
                                         boolean training) {
        Scalar scale = new Scalar(s.scale());
        Tensor xt = x.transpose(1, 2);                                             // (B, d, T)
        Tensor h = dropout(conv(xt, w.aW(), w.aB(), 1), s.dropout(), training);    // (B, r, T)
        Tensor w0 = weight.select(1, 0).unsqueeze(1).unsqueeze(2);                 // (B, 1, 1)
        Tensor w1 = weight.select(1, 1).unsqueeze(1).unsqueeze(2);
        Tensor yb = conv(h, w.bW(), w.bB(), s.groups()).mul(scale).mul(w0);        // (B, d, T)
        Tensor yd = conv(h, w.dW(), w.dB(), s.groups()).mul(scale).mul(w1);
        return yb.add(yd).add(xt).transpose(1, 2).contiguous();                    // (B, T, d)
    }

    /** Conv1d with kernel size 1; weight stored (out, in/groups) like the adapters keep it. */
    private static Tensor conv(Tensor x, Tensor weight, Tensor bias, long groups) {
        return conv1d(x, weight.unsqueeze(2), new TensorOptional(bias), ONE, ZERO, ONE, groups);
    }
}
