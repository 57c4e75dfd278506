package io.vladapt.ext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What this CPU can do, from the kernel's /proc/cpuinfo: the model name and the feature flags that
 * decide the fast paths (AMX and AVX512-BF16 multiply bfloat16 natively; without them libtorch
 * emulates bf16 and float32 is faster). {@code -Dvladapt.cpu.flags="avx512f amx_bf16"} replaces the
 * flags (tests, or to try what another machine would choose).
 */
public final class CpuFeatures {
    /** The flags benchmarks print: what the matmul and conversion paths depend on. */
    private static final List<String> REPORTED = List.of("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16",
            "amx_tile", "amx_bf16", "amx_int8");

    private final String model;
    private final Set<String> flags;

    private CpuFeatures(String model, Set<String> flags) {
        this.model = model;
        this.flags = flags;
    }

    /** This machine (or the flags given by -Dvladapt.cpu.flags). */
    public static CpuFeatures current() {
        String model = "unknown CPU";
        Set<String> flags = new TreeSet<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                int colon = line.indexOf(':');
                if (colon < 0) continue;
                String key = line.substring(0, colon).trim(), value = line.substring(colon + 1).trim();
                if (key.equals("model name") && model.equals("unknown CPU")) model = value;
                if (key.equals("flags") && flags.isEmpty()) flags.addAll(Arrays.asList(value.split("\\s+")));
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no /proc: report nothing rather than guess
        }
        String given = System.getProperty("vladapt.cpu.flags");
        if (given != null) flags = new TreeSet<>(Arrays.asList(given.trim().split("[\\s,]+")));
        return new CpuFeatures(model, flags);
    }

    public String model() {
        return model;
    }

    public boolean has(String flag) {
        return flags.contains(flag);
    }

    /** bf16 matmuls in hardware (oneDNN uses AMX tiles or AVX512-BF16 dot products). */
    public boolean nativeBf16() {
        return has("amx_bf16") || has("avx512_bf16");
    }

    /** The native bf16 flags present, e.g. "amx_bf16, avx512_bf16". */
    public String bf16Flags() {
        return String.join(", ", flags.stream().filter(f -> f.equals("amx_bf16") || f.equals("avx512_bf16")).toList());
    }

    /** "Intel(R) Xeon(R) ...; avx2 avx512f ... amx_bf16" for benchmark headers. */
    public String describe() {
        List<String> present = REPORTED.stream().filter(flags::contains).toList();
        return model + "; " + (present.isEmpty() ? "none of " + REPORTED : String.join(" ", present));
    }
}
