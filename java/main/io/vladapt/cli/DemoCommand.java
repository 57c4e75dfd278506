package io.vladapt.cli;

import io.vladapt.demo.Demo;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code vladapt demo}: the main job on an embedded default (no downloads). */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Synthetic ScienceQA, a small LM and ViT pretrained here (cached), Mixture-of-Modality Adaptation on top; "
                + "prints the ScienceQA table for a text-only baseline and for MMA.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--dir", description = "work and cache folder (default: ~/.cache/vladapt/demo)")
    Path dir;

    @Option(names = "--threads", description = "libtorch and OpenBLAS threads (default: all cores)")
    Integer threads;

    @Option(names = "--quiet", description = "no progress bars")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        CliNatives.load(threads);
        Path d = dir != null ? dir : Path.of(System.getProperty("user.home"), ".cache", "vladapt", "demo");
        new Demo(Demo.Options.standard(d).quiet(quiet), System.out).run();
        return 0;
    }
}
