package io.vladapt.quant;

import io.vladapt.ext.VlOps;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * Which kernel path the quantised linear layers take (cpp/quant.h): chosen at run time from the CPU's
 * features, or forced (tests run every path; benchmarks compare them).
 */
public final class QuantKernels {
    private QuantKernels() {}

    /** Kernel paths, slowest to fastest. */
    public enum Path {
        /** Portable C++ with float32 activations. */
        SCALAR(1),
        /** AVX-512: weights widened to float32, FMA. */
        AVX512(2),
        /** AVX512-VNNI: activations quantised to int8 in blocks of 32, integer dot products. */
        VNNI(3),
        /** VNNI for decode; AMX-BF16 tiles (weights dequantised to bf16 in L2) for more than 8 rows. */
        AMX(4);

        final int code;

        Path(int code) {
            this.code = code;
        }

        static Path of(int code) {
            for (Path p : values()) if (p.code == code) return p;
            throw new IllegalStateException("unknown kernel path code " + code);
        }
    }

    /** Rows of activations at or below which the GEMV kernels run (cpp/quant.h kGemvRows). */
    public static final int GEMV_ROWS = 8;

    public static Path active() {
        VlOps.load();
        return Path.of(VlOps.vl_quant_path(-1));
    }

    public static List<Path> available() {
        List<Path> out = new ArrayList<>();
        int flags = cpuFlags();
        out.add(Path.SCALAR);
        if ((flags & 1) != 0) out.add(Path.AVX512);
        if ((flags & 2) != 0) out.add(Path.VNNI);
        if ((flags & 2) != 0 && (flags & 8) != 0) out.add(Path.AMX);
        return out;
    }

    /** Forces a path until {@link Forced#close()} restores the automatic choice. */
    public static Forced force(Path path) {
        VlOps.load();
        if (VlOps.vl_quant_path(path.code) < 0) {
            throw new IllegalArgumentException("kernel path " + path.name().toLowerCase() + " is not available on this CPU ("
                    + describeCpu() + "); available: " + available());
        }
        return new Forced();
    }

    /** Restores the automatic choice when closed. */
    public static final class Forced implements AutoCloseable {
        private Forced() {}

        @Override
        public void close() {
            VlOps.vl_quant_path(0);
        }
    }

    /** Bits: 1 AVX-512, 2 AVX512-VNNI, 4 AVX512-BF16, 8 AMX-BF16 usable, 16 AMX-INT8 usable. */
    public static int cpuFlags() {
        VlOps.load();
        return VlOps.vl_cpu_flags();
    }

    /** "Intel(R) Xeon(R) Processor; AVX-512 yes, AVX512-VNNI yes, AVX512-BF16 yes, AMX-BF16 yes, AMX-INT8 yes". */
    public static String describeCpu() {
        int f = cpuFlags();
        return cpuModel() + "; AVX-512 " + yes(f & 1) + ", AVX512-VNNI " + yes(f & 2) + ", AVX512-BF16 " + yes(f & 4)
                + ", AMX-BF16 " + yes(f & 8) + ", AMX-INT8 " + yes(f & 16);
    }

    private static String yes(int bit) {
        return bit != 0 ? "yes" : "no";
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }
}
