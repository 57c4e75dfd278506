package io.vladapt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.vladapt.data.SyntheticScienceQa;
import io.vladapt.dist.Launcher;
import io.vladapt.io.SafetensorsFile;
import io.vladapt.testutil.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-parallel training with real worker JVMs on loopback: 2 processes equal 1 with the same global
 * batch, resume across world sizes, and a killed or frozen rank named by its peer within the timeout
 * with the last checkpoint intact.
 */
class DistributedTrainingTest {
    /** Small heaps, quick start: the workers train a 21-parameter model. */
    static final List<String> JVM = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0");

    @TempDir
    Path tmp;

    static List<String> args(Path out, int batch, int accum, int epochs, int every, long stopAfter, boolean resume, long sleepMs,
                             int... crash) {
        List<String> a = new ArrayList<>(List.of(out.toString(), "64", String.valueOf(batch), String.valueOf(accum), String.valueOf(epochs),
                String.valueOf(every), String.valueOf(stopAfter), String.valueOf(resume), String.valueOf(sleepMs)));
        for (int c : crash) a.add(String.valueOf(c));
        return a;
    }

    static int launch(List<String> workerArgs, Duration timeout, ByteArrayOutputStream log) throws Exception {
        PrintStream ps = new PrintStream(log, true, StandardCharsets.UTF_8);
        return Launcher.run(new Launcher.Spec(2, 1, 0, null, 0, timeout, 1, JVM, DistWorker.class.getName(), workerArgs), ps, ps);
    }

    static List<Trainer.Metric> single(Path out, int accum, boolean resume) throws IOException {
        try (LinearRegressionTask t = new LinearRegressionTask(64, DistWorker.DATA_SEED)) {
            return new Trainer(t, DistWorker.config(out, 4, accum, 2, 3)).run(resume, -1);
        }
    }

    /** Largest absolute difference over every tensor of two safetensors files with the same names. */
    static double maxDiff(Path a, Path b) {
        try (SafetensorsFile fa = SafetensorsFile.open(a); SafetensorsFile fb = SafetensorsFile.open(b); PointerScope s = new PointerScope()) {
            assertEquals(fa.names(), fb.names(), a + " vs " + b);
            double max = 0;
            for (String n : fa.names()) max = Math.max(max, fa.load(n).sub(fb.load(n)).abs().max().item_double());
            return max;
        }
    }

    static List<String> checkpointNames(Path out) throws IOException {
        return Trainer.checkpoints(out).stream().map(p -> p.getFileName().toString()).toList();
    }

    @Test
    void twoProcessesReachTheSingleProcessWeightsAndResumeAcrossWorldSizes() throws Exception {
        // one process: micro-batch 4, accumulation 4 (global batch 16); 64 examples, 2 epochs = 8 steps
        Path one = tmp.resolve("one"), two = tmp.resolve("two");
        List<Trainer.Metric> m1 = single(one, 4, false);
        // two processes through vladapt launch's code (TCPStore on loopback): micro-batch 4, accumulation 2 each
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        assertEquals(0, launch(args(two, 4, 2, 2, 3, -1, false, 0), Duration.ofSeconds(30), log), log.toString());

        assertEquals(checkpointNames(one), checkpointNames(two));
        Path c1 = one.resolve("checkpoint-8"), c2 = two.resolve("checkpoint-8");
        double w = maxDiff(c1.resolve("weights.safetensors"), c2.resolve("weights.safetensors"));
        double opt = maxDiff(c1.resolve("optimizer.safetensors"), c2.resolve("optimizer.safetensors"));
        System.out.printf("2 processes vs 1 after 8 steps: weights max |diff| %.3g, optimizer moments %.3g%n", w, opt);
        assertTrue(w <= 1e-6, "weights differ by " + w);
        assertTrue(opt <= 1e-6, "optimizer moments differ by " + opt);
        JsonNode s1 = Trainer.readState(c1), s2 = Trainer.readState(c2);
        assertEquals(s1.get("step"), s2.get("step"));
        assertEquals(16, s2.get("effective_batch").asInt(), "the global batch is recorded");
        assertEquals(2, s2.get("world_size").asInt());
        List<Trainer.Metric> m2 = Trainer.readMetrics(two.resolve("metrics.jsonl"), Long.MAX_VALUE);
        assertEquals(8, m2.size(), "only rank 0 writes metrics.jsonl");
        for (int i = 0; i < 8; i++) {
            assertEquals(m1.get(i).loss(), m2.get(i).loss(), 1e-6, "global mean loss at step " + (i + 1));
            assertEquals(m1.get(i).lr(), m2.get(i).lr(), 1e-12, "lr scales with the global batch");
        }

        // resume the 2-process run's epoch-1 checkpoint on 1 process (same global batch): the same end
        Path resumed = Files.createDirectories(tmp.resolve("resumed"));
        copyTree(two.resolve("checkpoint-4"), resumed.resolve("checkpoint-4"));
        Files.copy(two.resolve("metrics.jsonl"), resumed.resolve("metrics.jsonl"));
        single(resumed, 4, true);
        double r = maxDiff(c1.resolve("weights.safetensors"), resumed.resolve("checkpoint-8/weights.safetensors"));
        assertTrue(r <= 1e-6, "2 -> 1 process resume differs by " + r);
        // and the 1-process epoch-1 checkpoint on 2 processes: rank 1 gets rank 0's weights, moments and step by broadcast
        Path resumed2 = Files.createDirectories(tmp.resolve("resumed2"));
        copyTree(one.resolve("checkpoint-4"), resumed2.resolve("checkpoint-4"));
        Files.copy(one.resolve("metrics.jsonl"), resumed2.resolve("metrics.jsonl"));
        assertEquals(0, launch(args(resumed2, 4, 2, 2, 3, -1, true, 0), Duration.ofSeconds(30), log), log.toString());
        double r2 = maxDiff(c1.resolve("weights.safetensors"), resumed2.resolve("checkpoint-8/weights.safetensors"));
        assertTrue(r2 <= 1e-6, "1 -> 2 process resume differs by " + r2);
        assertEquals(8, Trainer.readMetrics(resumed2.resolve("metrics.jsonl"), Long.MAX_VALUE).size());
        System.out.printf("resumed at step 4 with the other world size: 2 -> 1 max |diff| %.3g, 1 -> 2 max |diff| %.3g%n", r, r2);
        // another global batch would shift data and schedule: refused, with the accumulation that fits
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> single(resumed, 2, true));
        assertTrue(e.getMessage().contains("resume with accumulation 4"), e.getMessage());
    }

    @Test
    void mmaTrainUnderVladaptLaunchEqualsOneProcess() throws Exception {
        // the real command path (launcher -> LaunchWorker -> vladapt mma train) on the tiny fixture models, in bf16 (the
        // adapters' float32 gradients are what the ranks all-reduce)
        Path sqa = tmp.resolve("sqa");
        SyntheticScienceQa.write(sqa, new SyntheticScienceQa.Spec(48, 4, 4, 32, 5));
        List<String> common = List.of("mma", "train", "--lm", Fixtures.dir("llama-tied-gqa").toAbsolutePath().toString(), "--vit",
                Fixtures.dir("clip-vit").toAbsolutePath().toString(), "--data", sqa.toString(), "--epochs", "1", "--batch", "2",
                "--warmup", "0.5", "--blr", "0.5", "--seed", "3", "--visual-tokens", "3", "--neck", "16", "--quiet", "--dtype", "bfloat16");
        Path one = tmp.resolve("mma1"), two = tmp.resolve("mma2");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(log, true, StandardCharsets.UTF_8);
        List<String> a1 = new ArrayList<>(common), a2 = new ArrayList<>(common);
        a1.addAll(List.of("--accum", "2", "--out", one.toString()));
        a2.addAll(List.of("--accum", "1", "--out", two.toString()));
        String worker = "io.vladapt.cli.LaunchWorker";
        assertEquals(0, Launcher.run(new Launcher.Spec(1, 1, 0, null, 0, Duration.ofSeconds(30), 1, JVM, worker, a1), ps, ps), log.toString());
        assertEquals(0, Launcher.run(new Launcher.Spec(2, 1, 0, null, 0, Duration.ofSeconds(30), 1, JVM, worker, a2), ps, ps), log.toString());
        double d = maxDiff(one.resolve("adapter/adapter_model.safetensors"), two.resolve("adapter/adapter_model.safetensors"));
        System.out.printf("mma train (bf16), 2 processes x accumulation 1 vs 1 process x accumulation 2, 12 steps: adapter max |diff| %.3g%n", d);
        assertTrue(d <= 1e-6, "adapters differ by " + d);
        assertEquals(12, Trainer.readMetrics(two.resolve("metrics.jsonl"), Long.MAX_VALUE).size());
    }

    @Test
    void theLauncherStopsEveryRankWhenOneDies() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        // rank 1 halts (exit 3) at its 4th micro-batch, as a crashed JVM would
        int code = launch(args(tmp.resolve("crash"), 4, 1, 20, 2, -1, false, 50, 1, 3), Duration.ofSeconds(30), log);
        double secs = (System.nanoTime() - t0) / 1e9;
        String out = log.toString(StandardCharsets.UTF_8);
        assertEquals(3, code, out);
        assertTrue(out.contains("[launch] rank 1 exited with code 3"), out);
        assertTrue(secs < 30, "took " + secs + " s");
    }

    @Test
    void aKilledOrFrozenRankIsNamedByItsPeerWithinTheTimeout() throws Exception {
        long timeoutS = 3;
        // killed: SIGKILL rank 1 once checkpoint-4 exists; rank 0 must stop, naming rank 1
        Scenario killed = Scenario.start(tmp.resolve("killed"), timeoutS);
        killed.awaitCheckpoint(4);
        killed.procs.get(1).destroyForcibly();
        killed.expectNamed(0, 1, timeoutS);
        killed.expectIntactCheckpoint();

        // frozen: SIGSTOP rank 0 (heartbeat and all); rank 1's all-reduce times out and names rank 0
        Scenario frozen = Scenario.start(tmp.resolve("frozen"), timeoutS);
        frozen.awaitCheckpoint(4);
        signal("STOP", frozen.procs.get(0));
        try {
            frozen.expectNamed(1, 0, timeoutS);
        } finally {
            frozen.procs.get(0).destroyForcibly();
        }
        frozen.expectIntactCheckpoint();
    }

    /** Two workers started by hand (FileStore, no launcher), their stderr in files. */
    record Scenario(Path out, List<Process> procs, List<Path> logs) {
        static Scenario start(Path out, long timeoutS) throws IOException {
            Files.createDirectories(out);
            List<Process> ps = new ArrayList<>();
            List<Path> logs = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
                cmd.addAll(JVM);
                cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), DistWorker.class.getName()));
                cmd.addAll(args(out.resolve("run"), 4, 1, 20, 2, -1, false, 60));
                ProcessBuilder pb = new ProcessBuilder(cmd);
                pb.environment().putAll(java.util.Map.of("WORLD_SIZE", "2", "RANK", String.valueOf(r), "VLADAPT_STORE_FILE",
                        out.resolve("store").toString(), "VLADAPT_DIST_TIMEOUT", String.valueOf(timeoutS)));
                Path log = out.resolve("rank" + r + ".log");
                logs.add(log);
                ps.add(pb.redirectErrorStream(true).redirectOutput(log.toFile()).start());
            }
            return new Scenario(out, ps, logs);
        }

        void awaitCheckpoint(long step) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.isDirectory(out.resolve("run/checkpoint-" + step))) {
                for (Process p : procs) assertTrue(p.isAlive(), "a worker ended early: " + Files.readString(logs.get(procs.indexOf(p))));
                assertTrue(System.nanoTime() < deadline, "no checkpoint-" + step + " after 60 s");
                Thread.sleep(50);
            }
        }

        /** Rank {@code survivor} exits non-zero, within the timeout plus the heartbeat diagnosis, naming {@code lost}. */
        void expectNamed(int survivor, int lost, long timeoutS) throws Exception {
            long t0 = System.nanoTime();
            Process p = procs.get(survivor);
            boolean ended = p.waitFor(timeoutS + 20, TimeUnit.SECONDS);
            double secs = (System.nanoTime() - t0) / 1e9;
            String log = Files.readString(logs.get(survivor));
            if (!ended) p.destroyForcibly();
            assertTrue(ended, "rank " + survivor + " still runs after " + secs + " s:\n" + log);
            assertNotEquals(0, p.exitValue(), log);
            assertTrue(log.contains("lost rank " + lost), log);
            System.out.printf("rank %d stopped %.1f s after rank %d was lost: %s%n", survivor, secs, lost,
                    log.lines().filter(l -> l.contains("lost rank")).findFirst().orElse(""));
            assertTrue(secs < timeoutS + 10, "took " + secs + " s");
        }

        /** The newest complete checkpoint loads, and no partial folder has a checkpoint's name. */
        void expectIntactCheckpoint() throws IOException {
            Path run = out.resolve("run");
            Path last = Trainer.latestCheckpoint(run);
            assertTrue(last != null, "a checkpoint survives");
            long step = Long.parseLong(last.getFileName().toString().substring("checkpoint-".length()));
            assertTrue(step >= 4);
            assertEquals(step, Trainer.readState(last).get("step").asLong());
            try (LinearRegressionTask t = new LinearRegressionTask(64, DistWorker.DATA_SEED);
                 AdamW opt = AdamW.lavin(t.trainable(), 0.02)) {
                t.load(last);
                opt.load(last.resolve("optimizer.safetensors"));
                assertTrue(torch.isfinite(t.trainable().get("proj.weight")).all().item_bool());
            }
            try (Stream<Path> s = Files.list(run)) {
                for (Path p : s.toList()) {
                    String n = p.getFileName().toString();
                    if (n.startsWith("checkpoint-")) assertTrue(Files.isRegularFile(p.resolve("trainer_state.json")), p + " is partial");
                }
            }
        }
    }

    static void signal(String sig, Process p) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + sig, String.valueOf(p.pid())).start().waitFor());
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) Files.copy(p, to.resolve(from.relativize(p).toString()));
        }
    }
}
