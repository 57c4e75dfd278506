package io.vladapt.cli;

import io.vladapt.ext.Devices;
import io.vladapt.ext.Precision;
import org.bytedeco.pytorch.global.torch.ScalarType;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** --dtype, --device, --threads and --quantize / --quantize-vit, shared by every command that loads a model. */
final class ComputeOptions {
    @Option(names = "--dtype", defaultValue = "auto", description = "frozen weights' dtype: auto (bfloat16 where the CPU multiplies it "
            + "natively, AMX or AVX512-BF16, or on CUDA; else float32), float32, bfloat16, float16; trainable tensors stay float32 "
            + "(default: ${DEFAULT-VALUE})")
    String dtype;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda or cuda:N (CUDA needs the -Pgpu build) (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--threads", description = "libtorch and OpenBLAS threads (default: all cores)")
    Integer threads;

    @picocli.CommandLine.Mixin
    QuantizeOptions quantize = new QuantizeOptions();

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    private Precision precision;
    private String resolvedDevice;

    /** Loads the natives, sets the threads, resolves device and dtype and says which dtype auto chose (once). */
    void apply() {
        if (precision != null) return;
        quantize.llm();                                    // a bad scheme is refused before anything else is said
        quantize.vit();
        CliNatives.load(threads);
        resolvedDevice = Devices.parse(device);
        precision = Precision.resolve(dtype, resolvedDevice);
        if (!dtype.trim().equalsIgnoreCase("auto") && resolvedDevice.equals("cpu")) return;
        String line = "vladapt: " + precision.why() + (resolvedDevice.equals("cpu") ? "" : ", device " + resolvedDevice);
        if (spec != null) {
            spec.commandLine().getErr().println(line);
            spec.commandLine().getErr().flush();
        } else {
            System.err.println(line);
        }
    }

    ScalarType dtype() {
        apply();
        return precision.dtype();
    }

    String device() {
        apply();
        return resolvedDevice;
    }

    /** The LLM scheme the memory check plans for: --quantize, or what a pre-quantised folder names. */
    io.vladapt.quant.QuantScheme quantize(java.nio.file.Path llmDir) {
        io.vladapt.quant.QuantScheme q = quantize.llm();
        return q != null ? q : io.vladapt.io.LlamaLoader.storedQuantization(llmDir);
    }
}
