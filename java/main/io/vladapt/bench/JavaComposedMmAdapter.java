package io.vladapt.bench;

import static org.bytedeco.pytorch.global.torch.cat;
import static org.bytedeco.pytorch.global.torch.dropout;
import static org.bytedeco.pytorch.global.torch.linear;
import static org.bytedeco.pytorch.global.torch.ones;
import static org.bytedeco.pytorch.global.torch.softmax;
import static org.bytedeco.pytorch.global.torch.stack;

import io.vladapt.mma.AdapterSettings;
import io.vladapt.mma.MmAdapterWeights;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;

/**
 * The C++ op's formulation (one GEMM with x as its bias), composed op by op from Java. Benchmarked
 * beside the C++ op to separate what the formulation buys from what moving the calls to C++ buys.
 * Not used by the library.
 */
final class JavaComposedMmAdapter {
    private final Tensor mask;  // (d, 1, g, 1) block membership, built once like the C++ op caches it

    JavaComposedMmAdapter(Tensor like, long d, long g) {
        mask = org.bytedeco.pytorch.global.torch.zeros(new long[] {d, 1, g, 1}, like.options());
        for (long i = 0; i < g; i++) mask.narrow(0, i * (d / g), d / g).narrow(2, i, 1).fill_(new Scalar(1.0));
    }

    Tensor forward(Tensor x, Tensor z, MmAdapterWeights w, AdapterSettings s, boolean training) {
        long b = x.size(0), t = x.size(1), d = x.size(2), r = w.aW().size(0), k = r / s.groups(), g = s.groups();
        Tensor ws = softmax(linear(z, w.rW(), new TensorOptional(w.rB())).div(new Scalar(s.temperature())), 1)
                .mul(new Scalar(s.scale()));                                                    // (B, 2)
        Tensor x2 = x.reshape(b * t, d);                                                        // (N, d)
        Tensor h = dropout(linear(x2, w.aW(), new TensorOptional(w.aB())), s.dropout(), training); // (N, r)
        Tensor h1 = cat(new TensorVector(h, ones(new long[] {b * t, 1}, h.options())), 1);   // (N, r+1)
        Tensor hw = h1.view(b, t, 1, r + 1).mul(ws.view(b, 1, 2, 1)).view(b * t, 2 * (r + 1));
        Tensor p = stack(new TensorVector(w.bW(), w.dW()), 1);                                   // (d, 2, k)
        Tensor u = g == 1 ? p : p.view(d, 2, 1, k).mul(mask).view(d, 2, r);       // (d, 2, r)
        Tensor ub = stack(new TensorVector(w.bB(), w.dB()), 1).unsqueeze(2);                     // (d, 2, 1)
        Tensor ucat = cat(new TensorVector(u, ub), 2).view(d, 2 * (r + 1));                     // (d, 2(r+1))
        return linear(hw, ucat, new TensorOptional(x2)).view(b, t, d);
    }
}
