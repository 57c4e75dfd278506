package io.vladapt.cli;

import io.vladapt.dist.Launcher;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Unmatched;

/** {@code vladapt launch}: any training command, data-parallel over processes and machines. */
@Command(name = "launch", mixinStandardHelpOptions = true, description = {
        "Runs a vladapt training command data-parallel on c10d (Gloo): --nproc workers here, ranks "
                + "NODE_RANK*NPROC.., meeting at node 0's TCPStore. Put -- before the command.",
        "e.g. vladapt launch --nproc 2 -- mma train --lm ... --out run1",
        "     vladapt launch --nproc 4 --nnodes 2 --node-rank 1 --master 10.0.0.1:29500 -- mma train ..."})
final class LaunchCommand implements Callable<Integer> {
    @Option(names = "--nproc", defaultValue = "1", description = "worker processes on this machine (default: ${DEFAULT-VALUE})")
    int nproc;

    @Option(names = "--nnodes", defaultValue = "1", description = "machines (default: ${DEFAULT-VALUE})")
    int nnodes;

    @Option(names = "--node-rank", defaultValue = "0", description = "this machine's index; node 0 hosts the store (default: ${DEFAULT-VALUE})")
    int nodeRank;

    @Option(names = "--master", description = "HOST:PORT of node 0's store, as every machine reaches it "
            + "(default with one machine: 127.0.0.1 and a free port)")
    String master;

    @Option(names = "--timeout", defaultValue = "60", description = "seconds a rank waits for a peer in a collective or to join; "
            + "a dead or frozen peer is named within a few heartbeats after (default: ${DEFAULT-VALUE})")
    double timeout;

    @Option(names = "--threads-per-proc", description = "CPU threads each worker uses (default: cores / nproc)")
    Integer threads;

    @Option(names = "--main", hidden = true, defaultValue = "io.vladapt.cli.LaunchWorker", description = "workers' main class (tests)")
    String mainClass;

    @Parameters(paramLabel = "COMMAND", description = "the vladapt command to run on every rank, after --")
    List<String> command = List.of();

    @Unmatched
    List<String> unmatched = List.of();

    @Override
    public Integer call() throws Exception {
        if (!unmatched.isEmpty()) {
            throw new IllegalArgumentException("put -- between launch's options and the command (unknown to launch: " + unmatched + ")");
        }
        String host = null;
        int port = 0;
        if (master != null) {
            int colon = master.lastIndexOf(':');
            if (colon <= 0) throw new IllegalArgumentException("--master must be HOST:PORT, got '" + master + "'");
            host = master.substring(0, colon);
            try {
                port = Integer.parseInt(master.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--master port must be a number, got '" + master + "'");
            }
        }
        if (!(timeout > 0)) throw new IllegalArgumentException("--timeout must be positive");
        int t = threads != null ? threads : Math.max(1, Runtime.getRuntime().availableProcessors() / nproc);
        Launcher.Spec spec = new Launcher.Spec(nproc, nnodes, nodeRank, host, port, Duration.ofMillis(Math.round(timeout * 1000)), t,
                Launcher.inheritedJvmArgs(), mainClass, command);
        return Launcher.run(spec, System.out, System.err);
    }
}
