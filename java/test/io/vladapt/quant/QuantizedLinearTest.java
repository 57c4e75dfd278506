package io.vladapt.quant;

import static io.vladapt.testutil.T.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.ext.OpCheck;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The kernels equal dequantise + linear, at every kernel path this CPU has (the fallback included),
 * for int8 and int4 (every group), symmetric and not, decode (GEMV, <= 8 rows) and prefill (GEMM)
 * row counts, and widths that leave partial vectors, chunks and tiles.
 *
 * Tolerances (max |y - ref| / max |ref|, reference in float64 on the same quantised weight):
 *  scalar, avx512 and the dequantise + linear fallback: 1e-5 (float32 rounding only);
 *  vnni: 1e-5 against the reference fed the int8 block-quantised activations the kernel uses, and 1e-2
 *  against the plain reference, measured as max |y - ref| / (max |w_row| * max |x_row|) (the 2-norms
 *  that bound a dot product's error), the error of 8-bit activations;
 *  amx (more than 8 rows): 1e-5 against the reference fed bf16-rounded activations and weights, 1e-2
 *  (as for vnni) against the plain one.
 */
class QuantizedLinearTest {
    static final long[][] SHAPES_INT8 = {{1, 1, 64}, {33, 7, 77}, {65, 9, 1000}, {17, 40, 4099}, {96, 3, 130}};
    // (out, rows, in) with in a multiple of every group tested and not always of the 128-input chunk
    static final long[][] SHAPES_INT4 = {{1, 1, 128}, {33, 7, 384}, {65, 9, 320}, {17, 40, 1152}, {50, 3, 192}};

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (QuantKernels.Path p : QuantKernels.available()) {
            for (long[] s : SHAPES_INT8) {
                out.add(Arguments.of(p, QuantScheme.int8(), s[0], s[1], s[2]));
                out.add(Arguments.of(p, QuantScheme.int8().asymmetric(), s[0], s[1], s[2]));
            }
            for (long[] s : SHAPES_INT4) {
                for (int g : new int[] {32, 64, 128}) {
                    if (s[2] % g != 0) continue;
                    out.add(Arguments.of(p, QuantScheme.int4(g), s[0], s[1], s[2]));
                    if (g == 64) out.add(Arguments.of(p, QuantScheme.int4(g).asymmetric(), s[0], s[1], s[2]));
                }
            }
        }
        return out.stream();
    }

    static QuantizedWeight randomWeight(QuantScheme scheme, long out, long in) {
        Tensor dense = randn(ScalarType.Float, 0.05, out, in);
        dense = dense.add(randn(ScalarType.Float, 0.2, out, 1));             // row offsets: zero points matter
        return QuantizedWeight.quantize("test.proj.weight", dense, scheme);
    }

    @ParameterizedTest(name = "{0} {1}: out={2} rows={3} in={4}")
    @MethodSource("cases")
    void kernelEqualsDequantizePlusLinear(QuantKernels.Path path, QuantScheme scheme, long out, long rows, long in) {
        try (PointerScope scope = new PointerScope(); QuantKernels.Forced f = QuantKernels.force(path)) {
            torch.manual_seed(out * 131 + rows * 7 + in);
            QuantizedWeight w = randomWeight(scheme, out, in);
            Tensor bias = randn(ScalarType.Float, 0.1, out);
            Tensor x = randn(ScalarType.Float, 1.0, rows, in);
            Tensor y = new QuantizedLinear(w, bias).forwardKernel(x);
            Tensor wd = QuantRef.dequantize(w);                                // (out, in) float64
            Tensor ref = torch.linear(x.to(ScalarType.Double), wd).add(bias.to(ScalarType.Double));
            assertEquals(ScalarType.Float, OpCheck.dtype(y));
            boolean gemv = rows <= QuantKernels.GEMV_ROWS;
            if (path == QuantKernels.Path.VNNI && gemv || path == QuantKernels.Path.AMX && gemv) {
                Tensor xq = QuantRef.fakeQuantActivations(x).to(ScalarType.Double);
                Tensor refq = torch.linear(xq, wd).add(bias.to(ScalarType.Double));
                assertTrue(QuantRef.relErr(y, refq) < 1e-5, "vs int8 activations: " + QuantRef.relErr(y, refq));
                double e = QuantRef.dotErr(y, ref, wd, x);
                assertTrue(e < 1e-2, "vs float activations: " + e);
            } else if (path == QuantKernels.Path.AMX) {
                Tensor xb = x.to(ScalarType.BFloat16).to(ScalarType.Double);
                Tensor wb = scheme.bits() == 4 ? wd.to(ScalarType.Float).to(ScalarType.BFloat16).to(ScalarType.Double) : wd;
                Tensor refb = torch.linear(xb, wb).add(bias.to(ScalarType.Double));
                assertTrue(QuantRef.relErr(y, refb) < 1e-5, "vs bf16 inputs: " + QuantRef.relErr(y, refb));
                double e = QuantRef.dotErr(y, ref, wd, x);
                assertTrue(e < 1e-2, "vs float32 inputs: " + e);
            } else {
                assertTrue(QuantRef.relErr(y, ref) < 1e-5, "error " + QuantRef.relErr(y, ref));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void dequantizeMatchesTheTorchOpsReference(QuantScheme scheme) {
        for (QuantKernels.Path path : QuantKernels.available()) {                 // scalar and AVX-512 loops
            try (PointerScope scope = new PointerScope(); QuantKernels.Forced f = QuantKernels.force(path)) {
                torch.manual_seed(3);
                QuantizedWeight w = randomWeight(scheme, 37, scheme.bits() == 8 ? 250 : 256);
                Tensor ref = QuantRef.dequantize(w);
                assertEquals(0.0, QuantRef.relErr(w.dequantize(ScalarType.Float), ref), 1e-7, path + " float32");
                Tensor bf = w.dequantize(ScalarType.BFloat16);
                assertTrue(torch.equal(bf, ref.to(ScalarType.Float).to(ScalarType.BFloat16)), path + ": bf16 rounds to nearest even");
                assertTrue(QuantRef.relErr(w.dequantize(ScalarType.Half), ref) < 1e-3, path + " float16");
            }
        }
    }

    static Stream<QuantScheme> schemes() {
        return Stream.of(QuantScheme.int8(), QuantScheme.int8().asymmetric(), QuantScheme.int4(32), QuantScheme.int4(64),
                QuantScheme.int4(128), QuantScheme.int4(128).asymmetric());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void quantizationErrorIsAtMostHalfAStep(QuantScheme scheme) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(4);
            long in = 256;
            Tensor dense = randn(ScalarType.Float, 0.05, 29, in);
            QuantizedWeight w = QuantizedWeight.quantize("w", dense, scheme);
            Tensor step = w.scale().to(ScalarType.Double);
            if (scheme.bits() == 8) step = step.unsqueeze(1);
            else step = step.repeat_interleave(scheme.group(), new org.bytedeco.pytorch.LongOptional(1),
                    new org.bytedeco.pytorch.LongOptional());
            Tensor err = QuantRef.dequantize(w).sub(dense.to(ScalarType.Double)).abs().div(step);
            // half a step; int4 scales are rounded to float16 (relative 2^-11) before the codes are chosen,
            // which moves the extreme codes (7.5 steps from 0) by up to 8 * 2^-11 of a step
            double bound = scheme.bits() == 4 ? 0.5 + 8 * Math.pow(2, -11) : 0.5 + 1e-6;
            assertTrue(err.max().item_double() <= bound, scheme + ": max error " + err.max().item_double() + " steps");
        }
    }

    @Test
    void differentiablePathGivesTheKernelsOutputAndTheInputGradient() {
        for (QuantScheme scheme : List.of(QuantScheme.int8(), QuantScheme.int4(64).asymmetric())) {
            try (PointerScope scope = new PointerScope(); QuantKernels.Forced f = QuantKernels.force(QuantKernels.Path.SCALAR)) {
                torch.manual_seed(5);
                QuantizedWeight w = randomWeight(scheme, 48, 192);
                Tensor bias = randn(ScalarType.Float, 0.1, 48);
                QuantizedLinear layer = new QuantizedLinear(w, bias);
                Tensor x = randn(ScalarType.Float, 1.0, 2, 5, 192).set_requires_grad(true);
                Tensor y = layer.forward(x);                                   // grad needed: differentiable path
                assertTrue(y.requires_grad());
                Tensor yk = layer.forwardKernel(x.detach());
                assertFalse(yk.requires_grad(), "the kernel records no graph");
                assertTrue(QuantRef.relErr(y, yk) < 1e-5, scheme + " forward: " + QuantRef.relErr(y, yk));
                Tensor cot = randn(ScalarType.Float, 1.0, 2, 5, 48);
                y.backward(cot, new BoolOptional(), false, new TensorArrayRefOptional());
                Tensor expected = torch.matmul(cot.to(ScalarType.Double), QuantRef.dequantize(w));  // dL/dx = cot W
                assertTrue(QuantRef.relErr(x.grad(), expected) < 1e-5, scheme + " grad: " + QuantRef.relErr(x.grad(), expected));
            }
        }
    }

    @Test
    void bf16ActivationsComeBackInBf16() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(6);
            QuantizedWeight w = randomWeight(QuantScheme.int4(128), 64, 256);
            QuantizedLinear layer = new QuantizedLinear(w, null);
            for (long rows : new long[] {1, 24}) {
                Tensor x = randn(ScalarType.Float, 1.0, rows, 256);
                Tensor y = layer.forwardKernel(x.to(ScalarType.BFloat16));
                assertEquals(ScalarType.BFloat16, OpCheck.dtype(y));
                Tensor ref = torch.linear(x.to(ScalarType.Double), QuantRef.dequantize(w));
                assertTrue(QuantRef.relErr(y, ref) < 3e-2, "rows " + rows + ": " + QuantRef.relErr(y, ref));
            }
        }
    }
}
