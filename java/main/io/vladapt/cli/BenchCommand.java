package io.vladapt.cli;

import io.vladapt.bench.OpsBench;
import io.vladapt.ext.Threads;
import io.vladapt.ext.VlOps;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code vladapt bench ...}: benchmarks that print medians and ratios against a baseline. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks (medians and ratios).",
        subcommands = {BenchCommand.Ops.class})
final class BenchCommand implements Runnable {
    @Override
    public void run() {
        picocli.CommandLine.usage(this, System.out);
    }

    @Command(name = "ops", mixinStandardHelpOptions = true,
            description = "Native core: MM-Adapter forward+backward (C++ op vs LaVIN's op-by-op composition) "
                    + "and merged vs bare projection inference.")
    static final class Ops implements Runnable {
        @Option(names = "--threads", description = "libtorch intra-op threads (default: libtorch's choice, "
                + "usually the number of cores)")
        Integer threads;

        @Option(names = "--rounds", defaultValue = "15", description = "interleaved timing rounds (default: ${DEFAULT-VALUE})")
        int rounds;

        @Override
        public void run() {
            VlOps.load();
            if (threads != null) Threads.set(threads);
            new OpsBench(System.out, rounds).run();
        }
    }
}
