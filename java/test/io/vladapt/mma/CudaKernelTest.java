package io.vladapt.mma;

import static io.vladapt.testutil.T.assertClose;
import static io.vladapt.testutil.T.randn;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vladapt.ext.VlOps;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CUDA build: the fused kernel on the GPU against the autograd op on the GPU and on the CPU.
 * Runs only in a GPU build (mvn -Pgpu) on a machine with a CUDA device; skipped elsewhere.
 */
class CudaKernelTest {
    @BeforeEach
    void needsCuda() {
        assumeTrue(VlOps.vl_has_cuda_kernels() == 1, "CPU build (no CUDA kernels)");
        assumeTrue(torch.cuda_is_available(), "no CUDA device");
    }

    static MmAdapterWeights onDevice(MmAdapterWeights w, Device dev) {
        return new MmAdapterWeights(to(w.aW(), dev), to(w.aB(), dev), to(w.bW(), dev), to(w.bB(), dev), to(w.dW(), dev),
                to(w.dB(), dev), to(w.rW(), dev), to(w.rB(), dev));
    }

    static Tensor to(Tensor t, Device dev) {
        return t.to(dev, io.vladapt.ext.OpCheck.dtype(t));
    }

    @ParameterizedTest(name = "{0}: B={1} T={2} d={3} r={4} g={5}")
    @CsvSource({"Float, 2, 7, 32, 8, 2", "Double, 3, 5, 40, 4, 2", "Float, 1, 64, 4096, 8, 2", "Float, 4, 3, 48, 6, 2"})
    void fusedCudaKernelMatchesAutogradOpOnGpuAndCpu(ScalarType type, long b, long t, long d, long r, long g) {
        try (PointerScope scope = new PointerScope()) {
            Device cuda = new Device("cuda:0");
            AdapterSettings s = new AdapterSettings(g, 0.8, 5.0, 0.0);
            MmAdapterWeights w = ReparamTest.weights(type, d, r, g);
            Tensor x = randn(type, 1, b, t, d), z = randn(type, 1, b, d);
            Tensor cpu = MmAdapterOp.forward(x, z, w, s, false);
            MmAdapterWeights wg = onDevice(w, cuda);
            Tensor xg = to(x, cuda), zg = to(z, cuda);
            Tensor gpuAutograd = MmAdapterOp.forward(xg, zg, wg, s, false);
            Tensor route = MmAdapterOp.route(zg, wg.rW(), wg.rB(), s.temperature());
            Tensor fused = MmAdapterOp.inferFused(xg, route, wg, s);
            assertTrue(fused.is_cuda());
            double tol = type == ScalarType.Double ? 1e-12 : 1e-5;
            assertClose("fused cuda vs autograd cuda", fused, gpuAutograd, tol);
            assertClose("fused cuda vs cpu", fused.cpu(), cpu, type == ScalarType.Double ? 1e-12 : 1e-4);
        }
    }

    @ParameterizedTest
    @CsvSource({"A_w"})
    void cpuWeightWithCudaActivationsIsRefused(String name) {
        try (PointerScope scope = new PointerScope()) {
            Device cuda = new Device("cuda:0");
            MmAdapterWeights w = onDevice(ReparamTest.weights(ScalarType.Float, 16, 4, 2), cuda);
            MmAdapterWeights mixed = new MmAdapterWeights(w.aW().cpu(), w.aB(), w.bW(), w.bB(), w.dW(), w.dB(), w.rW(), w.rB());
            Tensor x = to(randn(ScalarType.Float, 1, 2, 3, 16), cuda), z = to(randn(ScalarType.Float, 1, 2, 16), cuda);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MmAdapterOp.forward(x, z, mixed, new AdapterSettings(2, 1, 10, 0), false));
            assertTrue(e.getMessage().contains(name + " is on cpu but x is on cuda:0"), e.getMessage());
        }
    }
}
