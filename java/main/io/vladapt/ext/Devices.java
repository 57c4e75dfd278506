package io.vladapt.ext;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;

/**
 * Where tensors live: {@code cpu}, {@code cuda}, {@code cuda:N}, or {@code meta} (shapes only, no
 * memory: for sizing models and for tests). A device that this build or machine cannot use is refused
 * here, in one line, before any model is loaded.
 */
public final class Devices {
    private static final Pattern SPEC = Pattern.compile("(cpu|meta|cuda)(?::(\\d+))?");

    private Devices() {}

    /** The canonical spec ("cuda" -> "cuda:0"), checked against this build and machine. */
    public static String parse(String option) {
        String o = option == null ? "cpu" : option.trim().toLowerCase(Locale.ROOT);
        Matcher m = SPEC.matcher(o);
        if (!m.matches()) throw new IllegalArgumentException("--device must be cpu, cuda, cuda:N or meta, got '" + option + "'");
        String kind = m.group(1);
        if (!kind.equals("cuda")) {
            if (m.group(2) != null) throw new IllegalArgumentException("--device " + kind + " takes no index, got '" + option + "'");
            return kind;
        }
        int index = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
        VlOps.load();
        if (VlOps.vl_has_cuda_kernels() == 0 || !torch.cuda_is_available()) {
            throw new IllegalArgumentException("--device " + o + ": " + (VlOps.vl_has_cuda_kernels() == 0
                    ? "this is the CPU build of VLAdapt (build with mvn -Pgpu and run vladapt-gpu.jar for CUDA)"
                    : "no CUDA device is visible to libtorch"));
        }
        int count = torch.cuda_device_count();
        if (index >= count) throw new IllegalArgumentException("--device " + o + ": only " + count + " CUDA device(s) visible");
        return "cuda:" + index;
    }

    public static Device device(String spec) {
        return new Device(spec);
    }

    public static boolean isCpu(String spec) {
        return spec == null || spec.equals("cpu");
    }
}
