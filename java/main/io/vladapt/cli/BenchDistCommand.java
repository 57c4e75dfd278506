package io.vladapt.cli;

import io.vladapt.bench.DistBench;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code vladapt bench dist}: data-parallel overhead on this machine. */
@Command(name = "dist", mixinStandardHelpOptions = true,
        description = "Data-parallel MMA training steps/s with 1 vs N processes (same global batch, the cores split between them) "
                + "and the gradient all-reduce time of the LLaMA-7B-shaped adapter set (3.78M parameters), bucketed and per tensor.")
final class BenchDistCommand implements Callable<Integer> {
    @Option(names = "--nproc", defaultValue = "2", description = "processes to compare with one (default: ${DEFAULT-VALUE})")
    int nproc;

    @Option(names = "--steps", defaultValue = "15", description = "timed training steps (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--rounds", defaultValue = "21", description = "timed all-reduce rounds (default: ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--repeats", defaultValue = "3", description = "training runs per setup, interleaved (default: ${DEFAULT-VALUE})")
    int repeats;

    @Override
    public Integer call() throws Exception {
        if (nproc < 2) throw new IllegalArgumentException("--nproc must be >= 2");
        DistBench.run(System.out, nproc, steps, rounds, repeats);
        return 0;
    }
}
