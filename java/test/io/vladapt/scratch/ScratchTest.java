package io.vladapt.scratch;

import io.vladapt.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.*;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

class ScratchTest {
    static double ms(java.util.function.Supplier<Tensor> r) {
        double best = 1e9;
        for (int i = 0; i < 4; i++) {
            try (PointerScope s = new PointerScope()) {
                long t0 = System.nanoTime(); Tensor y = r.get(); y.backward(torch.ones_like(y), new BoolOptional(), false, new TensorArrayRefOptional()); best = Math.min(best, (System.nanoTime() - t0) / 1e6);
            }
        }
        return best;
    }
    @Test
    void sdpa() {
        io.vladapt.ext.Threads.set(2);
        long b = 2, t = 65, h = 32, hd = 128;
        try (PointerScope scope = new PointerScope()) {
            Tensor mask = io.vladapt.nn.Masks.modalityCausal(Tensors.full(ScalarType.Bool, 1, b, t));
            for (ScalarType ty : new ScalarType[] {ScalarType.BFloat16, ScalarType.Float}) {
                Tensor flat = torch.randn(new long[] {b, t, h * hd}, Tensors.options(ty)).set_requires_grad(true);
                Tensor c = torch.randn(new long[] {b, h, t, hd}, Tensors.options(ty)).set_requires_grad(true);
                java.util.function.Supplier<Tensor> tr = () -> flat.view(b, t, h, hd).transpose(1, 2);
                System.out.printf("%s sdpa mask contiguous %.1f ms, transposed %.1f ms, transposed causal no mask %.1f ms, transposed->contiguous %.1f ms%n", ty,
                    ms(() -> torch.scaled_dot_product_attention(c, c, c, new TensorOptional(mask), 0.0, false, new DoubleOptional(), false)),
                    ms(() -> torch.scaled_dot_product_attention(tr.get(), tr.get(), tr.get(), new TensorOptional(mask), 0.0, false, new DoubleOptional(), false)),
                    ms(() -> torch.scaled_dot_product_attention(tr.get(), tr.get(), tr.get(), new TensorOptional(), 0.0, true, new DoubleOptional(), false)),
                    ms(() -> torch.scaled_dot_product_attention(tr.get().contiguous(), tr.get().contiguous(), tr.get().contiguous(), new TensorOptional(mask), 0.0, false, new DoubleOptional(), false)));
            }
        }
    }
}
