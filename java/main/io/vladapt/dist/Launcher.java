package io.vladapt.dist;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.TCPStore;

/**
 * Starts this machine's workers of a data-parallel run and watches them, as torchrun does: N child
 * JVMs with the launcher's class path, each told its rank through the environment ({@link DistEnv});
 * their output forwarded line by line with a "[rank R]" prefix; when one exits non-zero the others
 * are stopped and the launcher exits with that code. On node 0 the launcher itself hosts the
 * TCPStore, so the store outlives every rank and a lost rank 0 can still be named by the others.
 */
public final class Launcher {
    /**
     * @param nproc          workers on this machine
     * @param nnodes         machines
     * @param nodeRank       this machine's index (0 hosts the store)
     * @param masterHost     node 0's address as the others reach it
     * @param masterPort     the store's port (0 = any free port, one machine only)
     * @param timeout        collective and join timeout handed to the workers
     * @param threadsPerProc CPU threads each worker sees (-XX:ActiveProcessorCount, OMP_NUM_THREADS)
     * @param jvmArgs        JVM options for the workers
     * @param mainClass      the workers' main class
     * @param command        its arguments
     */
    public record Spec(int nproc, int nnodes, int nodeRank, String masterHost, int masterPort, Duration timeout, int threadsPerProc,
                       List<String> jvmArgs, String mainClass, List<String> command) {
        public Spec {
            if (nproc < 1 || nnodes < 1) throw new IllegalArgumentException("--nproc and --nnodes must be >= 1");
            if (nodeRank < 0 || nodeRank >= nnodes) throw new IllegalArgumentException("--node-rank " + nodeRank + " is outside 0.." + (nnodes - 1));
            if (nnodes > 1 && (masterPort <= 0 || masterHost == null)) {
                throw new IllegalArgumentException("with --nnodes > 1 give --master HOST:PORT (node 0's address and a free port)");
            }
            if (command.isEmpty()) throw new IllegalArgumentException("no command to launch (e.g. vladapt launch --nproc 2 -- mma train ...)");
            if (threadsPerProc < 1) throw new IllegalArgumentException("threads per process must be >= 1");
        }

        int worldSize() {
            return nproc * nnodes;
        }
    }

    private record Exit(int rank, int code) {}

    private Launcher() {}

    /** Runs the workers to the end; returns 0, or the exit code of the first worker that failed. */
    public static int run(Spec spec, PrintStream out, PrintStream err) throws IOException, InterruptedException {
        TCPStore hosted = spec.nodeRank() == 0 ? Rendezvous.host(spec.masterPort(), spec.timeout()) : null;
        int port = hosted != null ? Rendezvous.port(hosted) : spec.masterPort();
        String host = spec.masterHost() != null ? spec.masterHost() : "127.0.0.1";
        List<Process> procs = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Thread> pumps = new ArrayList<>();
        BlockingQueue<Exit> exits = new LinkedBlockingQueue<>();
        Thread reaper = new Thread(() -> stopAll(procs));
        Runtime.getRuntime().addShutdownHook(reaper);   // a launcher stopped by Ctrl-C takes its workers with it
        try {
            for (int i = 0; i < spec.nproc(); i++) {
                int rank = spec.nodeRank() * spec.nproc() + i;
                ProcessBuilder pb = new ProcessBuilder(commandLine(spec));
                Map<String, String> env = pb.environment();
                env.put("RANK", String.valueOf(rank));
                env.put("WORLD_SIZE", String.valueOf(spec.worldSize()));
                env.put("LOCAL_RANK", String.valueOf(i));
                env.put("LOCAL_WORLD_SIZE", String.valueOf(spec.nproc()));
                env.put("MASTER_ADDR", host);
                env.put("MASTER_PORT", String.valueOf(port));
                env.put("VLADAPT_AGENT_STORE", "1");
                env.put("VLADAPT_DIST_TIMEOUT", String.valueOf(spec.timeout().toMillis() / 1000.0));
                env.put("OMP_NUM_THREADS", String.valueOf(spec.threadsPerProc()));
                env.remove("VLADAPT_STORE_FILE");
                // c10d logs every socket error as a warning with a C++ stack trace; the ranks' own messages name what was lost
                env.putIfAbsent("TORCH_CPP_LOG_LEVEL", "ERROR");
                Process p = pb.start();
                procs.add(p);
                pumps.add(pump(p.getInputStream(), out, rank));
                pumps.add(pump(p.getErrorStream(), err, rank));
                p.onExit().thenAccept(done -> exits.add(new Exit(rank, done.exitValue())));
            }
            err.printf("[launch] node %d of %d: ranks %d..%d of %d started; store at %s:%d%n", spec.nodeRank(), spec.nnodes(),
                    spec.nodeRank() * spec.nproc(), (spec.nodeRank() + 1) * spec.nproc() - 1, spec.worldSize(), host, port);
            int failed = 0;
            for (int left = procs.size(); left > 0 && failed == 0; left--) {
                Exit e = exits.take();
                if (e.code() != 0) {
                    err.printf("[launch] rank %d exited with code %d%s; stopping the other ranks on this node%n", e.rank(), e.code(),
                            e.code() > 128 ? " (killed by signal " + (e.code() - 128) + ")" : "");
                    failed = e.code();
                }
            }
            stopAll(procs);
            for (Thread t : pumps) t.join(5000);
            return failed;
        } finally {
            stopAll(procs);
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running already
            }
            if (hosted != null) hosted.close();
        }
    }

    private static List<String> commandLine(Spec spec) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(spec.jvmArgs());
        cmd.add("-XX:ActiveProcessorCount=" + spec.threadsPerProc());
        cmd.add("-cp");
        cmd.add(absoluteClassPath());
        cmd.add(spec.mainClass());
        cmd.addAll(spec.command());
        return cmd;
    }

    /** The launcher's class path with absolute entries, so workers find it whatever their directory. */
    private static String absoluteClassPath() {
        List<String> parts = new ArrayList<>();
        for (String p : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (!p.isEmpty()) parts.add(Path.of(p).toAbsolutePath().toString());
        }
        return String.join(java.io.File.pathSeparator, parts);
    }

    /** The JVM options of this launcher worth giving the workers (heap, system properties), without debuggers or agents. */
    public static List<String> inheritedJvmArgs() {
        List<String> out = new ArrayList<>();
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-agentlib") || a.startsWith("-javaagent") || a.startsWith("-Xrunjdwp") || a.startsWith("-Xdebug")
                    || a.startsWith("-XX:ActiveProcessorCount")) continue;
            out.add(a);
        }
        return out;
    }

    private static Thread pump(InputStream in, PrintStream to, int rank) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (to) {
                        to.println("[rank " + rank + "] " + line);
                    }
                }
            } catch (IOException e) {
                // the worker is gone
            }
        }, "launch-output-" + rank);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Asks every live worker to stop (their JVMs run shutdown hooks), then kills those still alive after 10 s. */
    private static void stopAll(List<Process> procs) {
        List<Process> live = new ArrayList<>();
        for (Process p : procs) if (p.isAlive()) live.add(p);
        for (Process p : live) p.destroy();
        for (Process p : live) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
            } catch (InterruptedException e) {
                p.destroyForcibly();
            }
        }
    }
}
