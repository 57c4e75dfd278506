package io.vladapt.io;

import java.util.Locale;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Element types as checkpoint formats name them, with libtorch's type and byte size. */
public enum DType {
    F64("F64", ScalarType.Double, 8),
    F32("F32", ScalarType.Float, 4),
    F16("F16", ScalarType.Half, 2),
    BF16("BF16", ScalarType.BFloat16, 2),
    I64("I64", ScalarType.Long, 8),
    I32("I32", ScalarType.Int, 4),
    I16("I16", ScalarType.Short, 2),
    I8("I8", ScalarType.Char, 1),
    U8("U8", ScalarType.Byte, 1),
    BOOL("BOOL", ScalarType.Bool, 1);

    public final String safetensorsName;
    public final ScalarType scalarType;
    public final int bytes;

    DType(String safetensorsName, ScalarType scalarType, int bytes) {
        this.safetensorsName = safetensorsName;
        this.scalarType = scalarType;
        this.bytes = bytes;
    }

    /** The safetensors dtype string ("F32", "BF16", ...), or null if VLAdapt does not read it. */
    public static DType ofSafetensors(String name) {
        for (DType t : values()) if (t.safetensorsName.equals(name)) return t;
        return null;
    }

    public static DType of(ScalarType type) {
        for (DType t : values()) if (t.scalarType == type) return t;
        throw new IllegalArgumentException("no checkpoint dtype for " + type);
    }

    /** "float32", "bfloat16", ... as users write it on the command line or in config.json. */
    public static DType parse(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "float32": case "f32": case "float": return F32;
            case "float16": case "f16": case "half": return F16;
            case "bfloat16": case "bf16": return BF16;
            case "float64": case "f64": case "double": return F64;
            default: throw new IllegalArgumentException("unknown dtype '" + name + "' (float32, float16, bfloat16, float64)");
        }
    }
}
