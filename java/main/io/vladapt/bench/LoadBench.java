package io.vladapt.bench;

import io.vladapt.io.DType;
import io.vladapt.io.LlamaLoader;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.Tensors;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Peak resident memory while loading a checkpoint larger than 2 GB: a random float32 LLaMA is
 * written tensor by tensor (never all in memory), then a fresh JVM loads it with {@link LlamaLoader}
 * and reports its peak RSS (VmHWM) before and after. Tensors are read straight into their storage,
 * so the peak should be the checkpoint plus the JVM and libtorch, not twice the checkpoint.
 */
public final class LoadBench {
    private LoadBench() {}

    /** d=2048, 11 layers, FFN 5632, vocab 32000, untied, float32: about 2.6 GB. */
    static LlamaConfig config(int layers) {
        return new LlamaConfig(32000, 2048, 5632, layers, 16, 4, 128, 1e-5, 10000.0, null, 4096, false, false, 1,
                List.of(2), 0, "float32");
    }

    public static void run(PrintStream out, Path dir, int layers) throws IOException, InterruptedException {
        LlamaConfig c = config(layers);
        Files.createDirectories(dir);
        Path file = dir.resolve("model.safetensors");
        Map<String, SafetensorsWriter.Planned> plan = new LinkedHashMap<>();
        LlamaModel.parameterShapes(c).forEach((name, shape) -> plan.put(name, new SafetensorsWriter.Planned(DType.F32, shape,
                () -> torch.randn(shape, Tensors.options(ScalarType.Float)).mul(new Scalar(0.02)))));
        long t0 = System.nanoTime();
        SafetensorsWriter.writePlanned(file, plan, Map.of());
        io.vladapt.io.ModelConfigs.writeLlamaHf(c, dir.resolve("config.json"));
        long bytes = Files.size(file);
        out.printf("wrote %s: %.2f GB in %.1f s%n", file, bytes / 1e9, (System.nanoTime() - t0) / 1e9);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx512m", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-cp", System.getProperty("java.class.path"),
                LoadBench.class.getName(), dir.toString()).inheritIO().start();
        int rc = p.waitFor();
        if (rc != 0) throw new IllegalStateException("the loading JVM exited with " + rc);
    }

    static long status(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key + ":")) return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
        }
        throw new IllegalStateException("no " + key + " in /proc/self/status");
    }

    /** The child: load, then report. */
    public static void main(String[] args) throws IOException {
        io.vladapt.ext.VlOps.load();
        Path dir = Path.of(args[0]);
        long file = Files.size(dir.resolve("model.safetensors"));
        long base = status("VmRSS");
        long t0 = System.nanoTime();
        try (LlamaModel m = LlamaLoader.load(dir, ScalarType.Float)) {
            double secs = (System.nanoTime() - t0) / 1e9;
            long peak = status("VmHWM");
            System.out.printf("loaded %.2f GB of weights in %.1f s (%.2f GB/s)%n", m.params().count() * 4 / 1e9, secs, file / 1e9 / secs);
            System.out.printf("RSS before loading (JVM + libtorch): %.2f GB; peak RSS: %.2f GB%n", base / 1e9, peak / 1e9);
            System.out.printf("peak RSS / checkpoint size: %.3f; (peak - base) / checkpoint size: %.3f%n", (double) peak / file,
                    (double) (peak - base) / file);
        }
    }
}
