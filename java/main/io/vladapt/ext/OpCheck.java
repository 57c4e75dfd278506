package io.vladapt.ext;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Validates the tensors of one native op call before it happens, and names the op and the shapes
 * if the call still fails. Dimensions are written symbolically: the first tensor that uses a symbol
 * ("B", "d", ...) binds it, every later use must agree. The first tensor also fixes the dtype
 * (a floating type) and the device that all others must share.
 *
 * <pre>
 *   OpCheck c = new OpCheck("MmAdapter.forward");
 *   c.tensor("x", x, "B", "T", "d");
 *   c.tensor("z", z, "B", "d");        // "z: dim 0 (B) is 3 but x has B = 4"
 * </pre>
 */
public final class OpCheck {
    private final String op;
    private final Map<String, Long> dims = new HashMap<>();
    private final Map<String, String> boundBy = new HashMap<>();
    private final List<String> seen = new ArrayList<>();
    private String refName;
    private ScalarType refType;
    private boolean refCpu;
    private String refDevice;
    private boolean float32Masters;

    public OpCheck(String op) {
        this.op = op;
    }

    /**
     * Lets later tensors be float32 while the first one is bf16/f16: float32 master weights of a
     * mixed-precision op, which the op casts to the activations' dtype itself.
     */
    public OpCheck allowFloat32Masters() {
        this.float32Masters = true;
        return this;
    }

    /** Checks a required tensor: present, defined, rank = dims.length, dims consistent. Returns its shape. */
    public long[] tensor(String name, Tensor t, String... symbols) {
        if (t == null || t.isNull()) throw fail(name + " is null");
        if (!t.defined()) throw fail(name + " is an undefined tensor");
        long[] shape = shape(t);
        seen.add(name + " " + describe(t, shape));
        if (shape.length != symbols.length) {
            throw fail(name + " must have rank " + symbols.length + " " + "(" + String.join(", ", symbols) + ")"
                    + ", got " + describe(t, shape));
        }
        sameTypeAndDevice(name, t, shape);
        for (int i = 0; i < symbols.length; i++) {
            String sym = symbols[i];
            if (sym.chars().allMatch(Character::isDigit)) {
                long want = Long.parseLong(sym);
                int dim = i;
                require(shape[i] == want, () -> name + ": dim " + dim + " must be " + want + ", got " + describe(t, shape));
                continue;
            }
            Long bound = dims.get(sym);
            if (bound == null) {
                dims.put(sym, shape[i]);
                boundBy.put(sym, name);
            } else if (bound != shape[i]) {
                throw fail(name + ": dim " + i + " (" + sym + ") is " + shape[i] + " but " + boundBy.get(sym)
                        + " has " + sym + " = " + bound + "; " + name + " is " + describe(t, shape));
            }
        }
        return shape;
    }

    /** Like {@link #tensor} but null is allowed (returns null). */
    public long[] optional(String name, Tensor t, String... symbols) {
        return t == null ? null : tensor(name, t, symbols);
    }

    /** The value bound to a symbol by an earlier tensor. */
    public long dim(String symbol) {
        Long v = dims.get(symbol);
        if (v == null) throw new IllegalStateException(op + ": symbol " + symbol + " not bound yet");
        return v;
    }

    /** Fails with the message unless the condition holds. */
    public void require(boolean ok, Supplier<String> message) {
        if (!ok) throw fail(message.get());
    }

    /** Runs the native call; a native failure comes back naming the op and every input's shape. */
    public void call(Runnable nativeCall) {
        try {
            nativeCall.run();
        } catch (RuntimeException e) {
            throw new VlNativeException(op + " failed in native code for " + String.join(", ", seen)
                    + ": " + e.getMessage(), e);
        }
    }

    private void sameTypeAndDevice(String name, Tensor t, long[] shape) {
        ScalarType type = dtype(t);
        boolean cpu = t.is_cpu();
        String device = cpu ? "cpu" : t.device().str().getString();
        if (refName == null) {
            if (!isFloating(type)) {
                throw fail(name + " must be a floating-point tensor (float32, float64, bfloat16, float16), got "
                        + describe(t, shape));
            }
            refName = name;
            refType = type;
            refCpu = cpu;
            refDevice = device;
            return;
        }
        if (type != refType && !(float32Masters && type == ScalarType.Float && refType != ScalarType.Double)) {
            throw fail(name + " has dtype " + typeName(type) + " but " + refName + " has " + typeName(refType)
                    + (float32Masters ? " (weights must have the activations' dtype or be float32 masters)"
                    : " (cast the adapter weights to the activations' dtype first)"));
        }
        if (cpu != refCpu || !device.equals(refDevice)) {
            throw fail(name + " is on " + device + " but " + refName + " is on " + refDevice);
        }
    }

    private IllegalArgumentException fail(String message) {
        return new IllegalArgumentException(op + ": " + message);
    }

    public static boolean isFloating(ScalarType t) {
        return t == ScalarType.Float || t == ScalarType.Double || t == ScalarType.BFloat16 || t == ScalarType.Half;
    }

    /**
     * The tensor's dtype as the canonical enum constant. JavaCPP hands native enums back as fresh
     * objects: without intern() they are not == to ScalarType.Float etc. and have no name.
     */
    public static ScalarType dtype(Tensor t) {
        return t.scalar_type().intern();
    }

    public static long[] shape(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int i = 0; i < s.length; i++) s[i] = t.size(i);
        return s;
    }

    public static String typeName(ScalarType t) {
        switch (t) {
            case Float: return "float32";
            case Double: return "float64";
            case BFloat16: return "bfloat16";
            case Half: return "float16";
            default: return t.name().toLowerCase();
        }
    }

    /** "[4, 16, 256] float32 cpu". */
    public static String describe(Tensor t) {
        return describe(t, shape(t));
    }

    private static String describe(Tensor t, long[] shape) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) s.append(i == 0 ? "" : ", ").append(shape[i]);
        String device = t.is_cpu() ? "cpu" : t.device().str().getString();
        return s.append("] ").append(typeName(dtype(t))).append(' ').append(device).toString();
    }
}
