package io.vladapt.quant;

import io.vladapt.ext.OpCheck;
import io.vladapt.ext.VlOps;
import java.util.Arrays;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A frozen (out, in) linear weight, quantised: w = (q - zero) * scale.
 * <ul>
 *   <li>int8: q int8 (out, in), scale float32 (out), zero int8 (out) or null;</li>
 *   <li>int4: q int32 (out, in/8), eight 4-bit codes q+8 per word, input 8j+i in bits [4i, 4i+4);
 *       scale float16 (out, in/group), zero int8 (out, in/group) in [-8, 7] or null.</li>
 * </ul>
 * This is HF compressed-tensors' layout (see {@link CompressedTensors}); the kernels read it as it is.
 * {@code name} is the dense weight's name, for messages.
 */
public final class QuantizedWeight {
    private final String name;
    private final QuantScheme scheme;
    private final long out, in;
    private final Tensor q, scale, zero;

    /** Checks every tensor's dtype and shape, and that the scales are finite and positive. */
    public QuantizedWeight(String name, QuantScheme scheme, long out, long in, Tensor q, Tensor scale, Tensor zero) {
        this.name = name;
        this.scheme = scheme;
        this.out = out;
        this.in = in;
        this.q = q;
        this.scale = scale;
        this.zero = zero;
        validate();
    }

    /** Quantises a dense (out, in) float32/bfloat16/float16 weight (no graph; the input is left as is). */
    public static QuantizedWeight quantize(String name, Tensor dense, QuantScheme scheme) {
        VlOps.load();
        if (dense == null || dense.isNull() || !dense.defined()) throw new IllegalArgumentException(name + ": no weight to quantise");
        long[] shape = OpCheck.shape(dense);
        if (shape.length != 2 || !OpCheck.isFloating(OpCheck.dtype(dense)) || OpCheck.dtype(dense) == ScalarType.Double) {
            throw new IllegalArgumentException(name + ": only a 2-D float32/bfloat16/float16 weight can be quantised, got "
                    + OpCheck.describe(dense));
        }
        if (!dense.is_cpu()) throw new IllegalArgumentException(name + ": quantise on the CPU, got " + OpCheck.describe(dense));
        if (scheme.bits() == 4 && shape[1] % scheme.group() != 0) {
            throw new IllegalArgumentException(name + ": group size " + scheme.group() + " does not divide in_features "
                    + shape[1] + " of " + OpCheck.describe(dense));
        }
        Tensor q = new Tensor(), s = new Tensor(), z = scheme.symmetric() ? null : new Tensor();
        try {
            VlOps.vl_quantize(q, s, z, dense, scheme.bits(), scheme.group(), scheme.symmetric() ? 1 : 0);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(name + ": quantising " + OpCheck.describe(dense) + " to " + scheme.describe()
                    + " failed: " + e.getMessage(), e);
        }
        return new QuantizedWeight(name, scheme, shape[0], shape[1], q, s, z);
    }

    /** The weight as a dense (out, in) tensor of the given dtype (float32, bfloat16 or float16). No graph. */
    public Tensor dequantize(ScalarType type) {
        int code;
        switch (type) {
            case Float: code = 0; break;
            case BFloat16: code = 1; break;
            case Half: code = 2; break;
            default: throw new IllegalArgumentException(name + ": dequantise to float32, bfloat16 or float16, not " + type);
        }
        Tensor outT = new Tensor();
        call("dequantize", () -> VlOps.vl_dequantize(outT, q, scale, zero, scheme.bits(), scheme.group(), code));
        return outT;
    }

    void call(String what, Runnable nativeCall) {
        try {
            nativeCall.run();
        } catch (RuntimeException e) {
            throw new io.vladapt.ext.VlNativeException(name + " (" + describe() + "): " + what + " failed in native code: "
                    + e.getMessage(), e);
        }
    }

    private void validate() {
        String where = name + " (" + scheme.describe() + ", " + out + " x " + in + ")";
        if (scheme.bits() == 4 && in % scheme.group() != 0) {
            throw new IllegalArgumentException(where + ": group size " + scheme.group() + " does not divide in_features " + in);
        }
        long groups = scheme.bits() == 8 ? 1 : in / scheme.group();
        if (scheme.bits() == 8) {
            expect(where, "q", q, ScalarType.Char, out, in);
            expect(where, "scale", scale, ScalarType.Float, out);
            if (zero != null) expect(where, "zero", zero, ScalarType.Char, out);
        } else {
            expect(where, "q", q, ScalarType.Int, out, in / 8);
            expect(where, "scale", scale, ScalarType.Half, out, groups);
            if (zero != null) expect(where, "zero", zero, ScalarType.Char, out, groups);
        }
        if (zero == null && !scheme.symmetric()) throw new IllegalArgumentException(where + ": an asymmetric scheme needs zero points");
        if (zero != null && scheme.symmetric()) throw new IllegalArgumentException(where + ": a symmetric scheme has no zero points");
        Scales.check(where + " scale", scale, groups);
        if (zero != null) {
            long lo = scheme.bits() == 8 ? -128 : -8, hi = scheme.bits() == 8 ? 127 : 7;
            Tensor z = zero.to(ScalarType.Int);
            long min = z.min().item_long(), max = z.max().item_long();
            if (min < lo || max > hi) {
                throw new IllegalArgumentException(where + ": zero points span [" + min + ", " + max + "], outside [" + lo + ", " + hi + "]");
            }
        }
    }

    private static void expect(String where, String part, Tensor t, ScalarType type, long... shape) {
        if (t == null || t.isNull() || !t.defined()) throw new IllegalArgumentException(where + ": " + part + " is missing");
        if (OpCheck.dtype(t) != type || !Arrays.equals(OpCheck.shape(t), shape) || !t.is_cpu()) {
            throw new IllegalArgumentException(where + ": " + part + " must be " + OpCheck.typeName(type) + " "
                    + Arrays.toString(shape) + " on the CPU, got " + OpCheck.describe(t));
        }
    }

    public String name() {
        return name;
    }

    public QuantScheme scheme() {
        return scheme;
    }

    public long outFeatures() {
        return out;
    }

    public long inFeatures() {
        return in;
    }

    public Tensor q() {
        return q;
    }

    public Tensor scale() {
        return scale;
    }

    /** Null for a symmetric scheme. */
    public Tensor zero() {
        return zero;
    }

    /** The tensors this weight holds (zero may be null), e.g. to hand them to another PointerScope. */
    public Pointer[] tensors() {
        return new Pointer[] {q, scale, zero};
    }

    /** Bytes held in memory. */
    public long bytes() {
        return scheme.bytes(out, in);
    }

    public String describe() {
        return scheme.describe() + " [" + out + ", " + in + "]";
    }
}
