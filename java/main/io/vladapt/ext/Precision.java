package io.vladapt.ext;

import io.vladapt.io.DType;
import java.util.Locale;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The dtype the frozen backbones are stored and computed in. {@code auto} picks bfloat16 where the
 * hardware multiplies it natively (a CUDA device, or a CPU with AMX-BF16 or AVX512-BF16: there oneDNN's
 * bf16 GEMMs run about 5x faster than float32 and the weights take half the memory) and float32
 * elsewhere (libtorch would emulate bf16, slower than float32). Trainable tensors stay float32 either way.
 *
 * @param dtype the choice
 * @param why   one line saying how it was chosen, for the log
 */
public record Precision(ScalarType dtype, String why) {

    /** "auto", "float32", "bfloat16", "float16" (and their short names) for a device ("cpu", "cuda", "cuda:1"). */
    public static Precision resolve(String option, String device) {
        String o = option == null ? "auto" : option.trim().toLowerCase(Locale.ROOT);
        if (!o.equals("auto")) {
            DType t;
            try {
                t = DType.parse(o);
            } catch (IllegalArgumentException e) {
                t = null;
            }
            if (t != DType.F32 && t != DType.BF16 && t != DType.F16) {
                throw new IllegalArgumentException("--dtype must be auto, float32, bfloat16 or float16, got '" + option + "'");
            }
            return new Precision(t.scalarType, "dtype " + name(t.scalarType) + " (as asked)");
        }
        if (device != null && device.startsWith("cuda")) {
            return new Precision(ScalarType.BFloat16, "dtype auto -> bfloat16 (CUDA device)");
        }
        CpuFeatures cpu = CpuFeatures.current();
        if (cpu.nativeBf16()) {
            return new Precision(ScalarType.BFloat16, "dtype auto -> bfloat16 (" + cpu.model() + " multiplies bf16 natively: "
                    + cpu.bf16Flags() + ")");
        }
        return new Precision(ScalarType.Float, "dtype auto -> float32 (" + cpu.model() + " has no AMX-BF16 or AVX512-BF16: "
                + "bf16 would be emulated and slower; --dtype bfloat16 still halves the memory)");
    }

    public static String name(ScalarType t) {
        return OpCheck.typeName(t);
    }
}
