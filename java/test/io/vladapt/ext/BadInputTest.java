package io.vladapt.ext;

import static io.vladapt.testutil.T.randn;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.mma.AdapterSettings;
import io.vladapt.mma.MmAdapterOp;
import io.vladapt.mma.MmAdapterWeights;
import io.vladapt.mma.RepAdapterOp;
import io.vladapt.mma.RepAdapterWeights;
import io.vladapt.mma.Reparam;
import io.vladapt.nn.LinearWeights;
import io.vladapt.vpg.transfer.ProjectorFusion;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Each class of bad input is refused in Java with a message naming the op, the tensor and the shapes. */
class BadInputTest {
    static final ScalarType F = ScalarType.Float;
    static final AdapterSettings S = new AdapterSettings(2, 1.0, 10.0, 0.1);
    PointerScope scope;
    Tensor x, z;
    MmAdapterWeights w;

    @BeforeEach
    void setUp() {
        scope = new PointerScope();
        x = randn(F, 1, 4, 6, 16);
        z = randn(F, 1, 4, 16);
        w = weights(16, 8, 4);
    }

    @AfterEach
    void tearDown() {
        scope.close();
    }

    static MmAdapterWeights weights(long d, long r, long k) {
        return new MmAdapterWeights(randn(F, 0.1, r, d), randn(F, 0.1, r), randn(F, 0.1, d, k), randn(F, 0.1, d),
                randn(F, 0.1, d, k), randn(F, 0.1, d), randn(F, 0.1, 2, d), randn(F, 0.1, 2));
    }

    static void refused(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should contain '" + f + "'");
        }
    }

    @Test
    void wrongRank() {
        refused(() -> MmAdapterOp.forward(x.select(1, 0), z, w, S, true),
                "MmAdapter.forward: x must have rank 3 (B, T, d), got [4, 16] float32 cpu");
        refused(() -> RepAdapterOp.forward(x, new RepAdapterWeights(w.aW(), w.aB(), w.bW().unsqueeze(2), w.bB()), S, true),
                "RepAdapter.forward: U_w must have rank 2 (d, k), got [16, 4, 1]");
    }

    @Test
    void mismatchedWidth() {
        refused(() -> MmAdapterOp.forward(x, randn(F, 1, 4, 17), w, S, true),
                "MmAdapter.forward: z: dim 1 (d) is 17 but x has d = 16");
        MmAdapterWeights wide = weights(24, 8, 4);
        refused(() -> MmAdapterOp.forward(x, z, wide, S, true), "A_w: dim 1 (d) is 24 but x has d = 16");
        LinearWeights conv = new LinearWeights(randn(F, 1, 40, 12), randn(F, 1, 40));
        LinearWeights src = new LinearWeights(randn(F, 1, 16, 32), randn(F, 1, 16));
        refused(() -> ProjectorFusion.fuse(conv, src), "ProjectorFusion.fuse: S_w: dim 0 (d_src) is 16 but C_w has d_src = 12");
    }

    @Test
    void batchOfZDiffersFromX() {
        refused(() -> MmAdapterOp.forward(x, randn(F, 1, 3, 16), w, S, true),
                "z: dim 0 (B) is 3 but x has B = 4; z is [3, 16] float32 cpu");
        refused(() -> MmAdapterOp.inferFused(x, randn(F, 1, 3, 2), w, S), "route: dim 0 (B) is 3 but x has B = 4");
    }

    @Test
    void rankNotDivisibleByGroups() {
        MmAdapterWeights w6 = new MmAdapterWeights(randn(F, 0.1, 6, 16), randn(F, 0.1, 6), w.bW(), w.bB(), w.dW(), w.dB(),
                w.rW(), w.rB());
        refused(() -> MmAdapterOp.forward(x, z, w6, new AdapterSettings(4, 1, 10, 0), true),
                "r = 6 (rows of A_w) is not divisible by groups = 4");
        refused(() -> MmAdapterOp.forward(x, z, w, new AdapterSettings(4, 1, 10, 0), true),
                "up-projection weights have 4 columns but r / groups = 8 / 4 = 2");
        refused(() -> new AdapterSettings(0, 1, 10, 0), "groups must be >= 1");
    }

    @Test
    void wrongDtype() {
        refused(() -> MmAdapterOp.forward(x, z.to(ScalarType.Double), w, S, true),
                "z has dtype float64 but x has float32");
        refused(() -> MmAdapterOp.forward(x.to(ScalarType.Long), z, w, S, true), "x must be a floating-point tensor");
        // float32 master weights may serve bf16 activations, not the other way round
        MmAdapterWeights bf = new MmAdapterWeights(w.aW().to(ScalarType.BFloat16), w.aB(), w.bW(), w.bB(), w.dW(), w.dB(),
                w.rW(), w.rB());
        refused(() -> Reparam.merge(new LinearWeights(randn(F, 1, 8, 16), null), bf, torch.softmax(randn(F, 1, 2), 0), S),
                "A_w has dtype bfloat16 but W has float32");
        refused(() -> MmAdapterOp.forward(x, z, bf, S, true), "A_w has dtype bfloat16 but x has float32");
    }

    @Test
    void nullOrUndefinedTensor() {
        refused(() -> MmAdapterOp.forward(null, z, w, S, true), "MmAdapter.forward: x is null");
        MmAdapterWeights noRouter = new MmAdapterWeights(w.aW(), w.aB(), w.bW(), w.bB(), w.dW(), w.dB(), null, w.rB());
        refused(() -> MmAdapterOp.forward(x, z, noRouter, S, true), "R_w is null");
        refused(() -> MmAdapterOp.route(new Tensor(), w.rW(), w.rB(), 10), "z is an undefined tensor");
        refused(() -> Reparam.merge(new LinearWeights(randn(F, 1, 8, 16), null), w, null, S), "route is null");
    }

    @Test
    void tensorOnAnotherDevice() {
        // "meta" tensors have shapes but no data: a device every build has
        TensorOptions meta = new TensorOptions().device(new DeviceOptional(new Device("meta")));
        Tensor aMeta = torch.empty(new long[] {8, 16}, meta, new org.bytedeco.pytorch.MemoryFormatOptional());
        MmAdapterWeights onMeta = new MmAdapterWeights(aMeta, w.aB(), w.bW(), w.bB(), w.dW(), w.dB(), w.rW(), w.rB());
        refused(() -> MmAdapterOp.forward(x, z, onMeta, S, true), "A_w is on meta but x is on cpu");
    }

    @Test
    void badSettings() {
        refused(() -> new AdapterSettings(2, 1, 0, 0), "temperature must be a positive number");
        refused(() -> new AdapterSettings(2, 1, 10, 1.0), "dropout must be in [0, 1)");
        refused(() -> new AdapterSettings(2, Double.NaN, 10, 0), "scale must be finite");
    }

    /** A failure inside libtorch still comes back as a Java exception naming the op and the inputs. */
    @Test
    void nativeFailureIsWrappedWithOpAndShapes() {
        OpCheck c = new OpCheck("test.router");
        c.tensor("z", z, "B", "d");
        c.tensor("R_w", randn(F, 1, 2, 9), "2", "e");       // deliberately inconsistent, passes the symbols
        Tensor out = new Tensor();
        VlNativeException e = assertThrows(VlNativeException.class,
                () -> c.call(() -> VlOps.vl_mm_router(out, z, randn(F, 1, 2, 9), randn(F, 1, 2), 1.0)));
        assertTrue(e.getMessage().startsWith("test.router failed in native code for z [4, 16] float32 cpu, R_w [2, 9] float32 cpu: "),
                e.getMessage());
        assertTrue(e.getMessage().contains("vl_mm_router"), e.getMessage());
    }
}
