package io.vladapt.mma;

import static io.vladapt.testutil.T.assertClose;
import static io.vladapt.testutil.T.leaf;
import static io.vladapt.testutil.T.randn;
import static io.vladapt.testutil.T.tol;
import static io.vladapt.testutil.T.twin;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The C++ MM-Adapter and router against LaVIN's op-by-op composition: forward and every gradient. */
class MmAdapterParityTest {

    /** Random shapes: batch 1-4, groups 1/2/4, r = groups * (1..4), d = groups * (1..12). */
    record Shape(long b, long t, long d, long r, long g) {
        static Shape random(Random rnd) {
            long g = new long[] {1, 2, 4}[rnd.nextInt(3)];
            return new Shape(1 + rnd.nextInt(4), 1 + rnd.nextInt(9), g * (1 + rnd.nextInt(12)), g * (1 + rnd.nextInt(4)), g);
        }
    }

    static final class Inputs {
        final Tensor x, z;
        final MmAdapterWeights w;

        Inputs(Shape s, ScalarType type) {
            x = leaf(type, 1.0, s.b(), s.t(), s.d());
            z = leaf(type, 1.0, s.b(), s.d());
            // non-zero up-projections, so every gradient path carries signal
            w = new MmAdapterWeights(leaf(type, 0.3, s.r(), s.d()), leaf(type, 0.3, s.r()),
                    leaf(type, 0.3, s.d(), s.r() / s.g()), leaf(type, 0.3, s.d()),
                    leaf(type, 0.3, s.d(), s.r() / s.g()), leaf(type, 0.3, s.d()),
                    leaf(type, 0.3, 2, s.d()), leaf(type, 0.3, 2));
        }

        Inputs(Inputs o) {
            x = twin(o.x);
            z = twin(o.z);
            MmAdapterWeights v = o.w;
            w = new MmAdapterWeights(twin(v.aW()), twin(v.aB()), twin(v.bW()), twin(v.bB()), twin(v.dW()),
                    twin(v.dB()), twin(v.rW()), twin(v.rB()));
        }

        Tensor[] all() {
            return new Tensor[] {x, z, w.aW(), w.aB(), w.bW(), w.bB(), w.dW(), w.dB(), w.rW(), w.rB()};
        }
    }

    static final String[] NAMES = {"x", "z", "A_w", "A_b", "B_w", "B_b", "D_w", "D_b", "R_w", "R_b"};

    /** Runs f on both input sets, backpropagates the same random cotangent, compares outputs and grads. */
    static void compare(Inputs mine, Inputs ref, Function<Inputs, Tensor> op, Function<Inputs, Tensor> naive,
                        ScalarType type, String label) {
        Tensor y = op.apply(mine), yRef = naive.apply(ref);
        assertClose(label + " forward", y, yRef, tol(type));
        Tensor cot = randn(type, 1.0, io.vladapt.ext.OpCheck.shape(y));
        y.mul(cot).sum().backward();
        yRef.mul(cot).sum().backward();
        Tensor[] a = mine.all(), b = ref.all();
        for (int i = 0; i < a.length; i++) {
            assertTrue(a[i].grad().defined(), label + " grad " + NAMES[i] + " missing");
            assertClose(label + " grad " + NAMES[i], a[i].grad(), b[i].grad(), tol(type));
        }
    }

    @ParameterizedTest
    @EnumSource(value = ScalarType.class, names = {"Double", "Float"})
    void forwardAndAllGradientsMatchLavinComposition(ScalarType type) {
        Random rnd = new Random(7);
        for (int trial = 0; trial < 12; trial++) {
            try (PointerScope scope = new PointerScope()) {
                Shape s = Shape.random(rnd);
                torch.manual_seed(100 + trial);
                AdapterSettings set = new AdapterSettings(s.g(), 0.5 + rnd.nextDouble(), 1 + 9 * rnd.nextDouble(), 0.1);
                Inputs mine = new Inputs(s, type), ref = new Inputs(mine);
                compare(mine, ref, in -> MmAdapterOp.forward(in.x, in.z, in.w, set, false),
                        in -> NaiveAdapters.mmAdapter(in.x, in.z, in.w, set, false), type, type + " " + s);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(doubles = {1.0, 1.7})
    void scaleOneAndTemperatureOneTakeTheShortPathsCorrectly(double value) {
        try (PointerScope scope = new PointerScope()) {
            Shape s = new Shape(3, 5, 8, 4, 2);
            AdapterSettings set = new AdapterSettings(2, value, value, 0.0);
            Inputs mine = new Inputs(s, ScalarType.Double), ref = new Inputs(mine);
            compare(mine, ref, in -> MmAdapterOp.forward(in.x, in.z, in.w, set, false),
                    in -> NaiveAdapters.mmAdapter(in.x, in.z, in.w, set, false), ScalarType.Double, "s=tau=" + value);
        }
    }

    @ParameterizedTest
    @EnumSource(value = ScalarType.class, names = {"Double", "Float"})
    void routerMatchesAndCarriesGradient(ScalarType type) {
        try (PointerScope scope = new PointerScope()) {
            Tensor z = leaf(type, 1.0, 4, 24), rW = leaf(type, 0.5, 2, 24), rB = leaf(type, 0.5, 2);
            Tensor z2 = twin(z), rW2 = twin(rW), rB2 = twin(rB);
            Tensor w = MmAdapterOp.route(z, rW, rB, 5.0), wRef = NaiveAdapters.route(z2, rW2, rB2, 5.0);
            assertClose("route", w, wRef, tol(type));
            Tensor cot = randn(type, 1.0, 4, 2);
            w.mul(cot).sum().backward();
            wRef.mul(cot).sum().backward();
            assertClose("grad z", z.grad(), z2.grad(), tol(type));
            assertClose("grad R_w", rW.grad(), rW2.grad(), tol(type));
            assertClose("grad R_b", rB.grad(), rB2.grad(), tol(type));
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 4})
    void zeroInitialisedExpertsAreTheIdentity(long groups) {
        try (PointerScope scope = new PointerScope()) {
            Shape s = new Shape(2, 7, 16, 8, groups);
            Inputs in = new Inputs(s, ScalarType.Float);
            MmAdapterWeights w = in.w;
            MmAdapterWeights zero = new MmAdapterWeights(w.aW(), w.aB(), w.bW().detach().mul(new org.bytedeco.pytorch.Scalar(0.0)),
                    w.bB().detach().mul(new org.bytedeco.pytorch.Scalar(0.0)), w.dW().detach().mul(new org.bytedeco.pytorch.Scalar(0.0)),
                    w.dB().detach().mul(new org.bytedeco.pytorch.Scalar(0.0)), w.rW(), w.rB());
            AdapterSettings set = new AdapterSettings(groups, 1.0, 10.0, 0.1);
            Tensor y = MmAdapterOp.forward(in.x, in.z, zero, set, true);
            assertTrue(torch.equal(y, in.x), "zero-initialised MM-Adapter must return x exactly (training mode)");
        }
    }

    @org.junit.jupiter.api.Test
    void dropoutIsActiveOnlyWhenTrainingAndIsSeeded() {
        try (PointerScope scope = new PointerScope()) {
            Inputs in = new Inputs(new Shape(2, 9, 16, 8, 2), ScalarType.Double);
            AdapterSettings set = new AdapterSettings(2, 1.0, 10.0, 0.5);
            AdapterSettings noDrop = new AdapterSettings(2, 1.0, 10.0, 0.0);
            Tensor eval = MmAdapterOp.forward(in.x, in.z, in.w, set, false);
            assertTrue(torch.equal(eval, MmAdapterOp.forward(in.x, in.z, in.w, noDrop, true)), "p=0 training = eval");
            torch.manual_seed(3);
            Tensor t1 = MmAdapterOp.forward(in.x, in.z, in.w, set, true);
            torch.manual_seed(3);
            Tensor t2 = MmAdapterOp.forward(in.x, in.z, in.w, set, true);
            assertTrue(torch.equal(t1, t2), "same seed, same dropout mask");
            assertFalse(torch.equal(t1, eval), "dropout 0.5 in training must change the output");
        }
    }
}
