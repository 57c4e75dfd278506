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
        @Option(names = "--threads", split = ",", description = "libtorch intra-op thread counts to run, "
                + "e.g. 1,2 (default: 1 and the number of cores)")
        int[] threads;

        @Option(names = "--rounds", defaultValue = "21", description = "interleaved timing rounds (default: ${DEFAULT-VALUE})")
        int rounds;

        @Override
        public void run() {
            VlOps.load();
            int cores = Runtime.getRuntime().availableProcessors();
            int[] counts = threads != null ? threads : (cores > 1 ? new int[] {1, cores} : new int[] {1});
            for (int i = 0; i < counts.length; i++) {
                if (i > 0) System.out.println();
                Threads.set(counts[i]);
                new OpsBench(System.out, rounds).run();
            }
        }
    }
}
