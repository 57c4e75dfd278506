package io.vladapt.cli;

import io.vladapt.bench.OpsBench;
import io.vladapt.ext.Threads;
import io.vladapt.ext.VlOps;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code vladapt bench ...}: benchmarks that print medians and ratios against a baseline. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks (medians and ratios).",
        subcommands = {BenchCommand.Ops.class, BenchCommand.Backbone.class, BenchCommand.Load.class, BenchCommand.Mma.class,
                BenchDistCommand.class, BenchCommand.WriteModels.class, BenchCommand.Block.class, BenchCommand.Serve.class,
                BenchCommand.Quant.class, BenchCommand.Gguf.class})
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
            int[] counts = threadCounts(threads);
            for (int i = 0; i < counts.length; i++) {
                if (i > 0) System.out.println();
                Threads.set(counts[i]);
                new OpsBench(System.out, rounds).run();
            }
        }
    }

    @Command(name = "backbone", mixinStandardHelpOptions = true,
            description = "Forward latency and generation tokens/s of a mid-size random LLaMA on this machine.")
    static final class Backbone implements Runnable {
        @Option(names = "--hidden", defaultValue = "1024", description = "model width (default: ${DEFAULT-VALUE})")
        int hidden;

        @Option(names = "--layers", defaultValue = "8", description = "(default: ${DEFAULT-VALUE})")
        int layers;

        @Option(names = "--prompt-tokens", defaultValue = "128", description = "forward length (default: ${DEFAULT-VALUE})")
        int promptTokens;

        @Option(names = "--new-tokens", defaultValue = "64", description = "generated tokens (default: ${DEFAULT-VALUE})")
        int newTokens;

        @Option(names = "--threads", split = ",", description = "thread counts (default: 1 and the number of cores)")
        int[] threads;

        @Option(names = "--rounds", defaultValue = "9", description = "(default: ${DEFAULT-VALUE})")
        int rounds;

        @Override
        public void run() {
            VlOps.load();
            for (int n : threadCounts(threads)) {
                Threads.set(n);
                new io.vladapt.bench.BackboneBench(System.out, rounds).run(io.vladapt.bench.BackboneBench.midSize(hidden, layers),
                        promptTokens, newTokens);
                System.out.println();
            }
        }
    }

    @Command(name = "load", mixinStandardHelpOptions = true,
            description = "Peak resident memory when a fresh JVM loads a >2 GB checkpoint (written first, tensor by tensor).")
    static final class Load implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--dir", description = "where to write the checkpoint (default: a temporary folder, deleted after)")
        java.nio.file.Path dir;

        @Option(names = "--layers", defaultValue = "11", description = "d=2048 layers; 11 gives about 2.6 GB (default: ${DEFAULT-VALUE})")
        int layers;

        @Override
        public Integer call() throws Exception {
            VlOps.load();
            boolean temp = dir == null;
            java.nio.file.Path d = temp ? java.nio.file.Files.createTempDirectory("vladapt-load-bench") : dir;
            try {
                io.vladapt.bench.LoadBench.run(System.out, d, layers);
            } finally {
                if (temp) {
                    for (String f : new String[] {"model.safetensors", "config.json"}) java.nio.file.Files.deleteIfExists(d.resolve(f));
                    java.nio.file.Files.deleteIfExists(d);
                }
            }
            return 0;
        }
    }

    @Command(name = "mma", mixinStandardHelpOptions = true,
            description = "MMA training-step time and peak memory (demo shapes and a LLaMA-7B-shaped stack; float32, bfloat16, "
                    + "checkpointing, adapters op by op), optionally against PyTorch eager in three modes, each as a multiple of its "
                    + "matmul floor; chat tokens/s merged vs unmerged.")
    static final class Mma implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--steps", defaultValue = "9", description = "timed steps per run (default: ${DEFAULT-VALUE})")
        int steps;

        @Option(names = "--rounds", defaultValue = "3", description = "interleaved runs per configuration (default: ${DEFAULT-VALUE})")
        int rounds;

        @Option(names = "--threads", description = "threads (default: all cores)")
        Integer threads;

        @Option(names = "--vs-pytorch", paramLabel = "PYTHON", description = "a python with torch installed: run bench/pytorch_mma.py "
                + "(the same model in PyTorch eager: f32, bf16 autocast, bf16 autocast + bf16 weights) interleaved with VLAdapt")
        String python;

        @Option(names = "--shapes", split = ",", description = "shapes to run: DEMO, LLAMA7B_STACK (default: both)")
        java.util.EnumSet<io.vladapt.bench.MmaBench.Shape> shapes = java.util.EnumSet.allOf(io.vladapt.bench.MmaBench.Shape.class);

        @Option(names = "--no-chat", description = "skip the chat tokens/s measurement on the 7B-shaped stack")
        boolean noChat;

        @Override
        public Integer call() throws Exception {
            io.vladapt.bench.MmaBench.run(System.out, steps, threads != null ? threads : Runtime.getRuntime().availableProcessors(), rounds,
                    python, shapes, !noChat);
            return 0;
        }
    }

    @Command(name = "write-models", mixinStandardHelpOptions = true,
            description = "Write real-scale random checkpoints for the checks CI cannot run: a LLaMA-7B- or 13B-shaped HF folder "
                    + "(bf16, sharded safetensors, config.json, tokenizer.json), a CLIP ViT-L/14 HF folder and a synthetic ScienceQA.")
    static final class WriteModels implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--out", required = true, description = "folder to write into (about 14 GB for 7b, 27 GB for 13b)")
        java.nio.file.Path out;

        @Option(names = "--llm", defaultValue = "7b", description = "7b or 13b (default: ${DEFAULT-VALUE})")
        String llm;

        @Option(names = "--shards", defaultValue = "3", description = "safetensors shards (default: ${DEFAULT-VALUE})")
        int shards;

        @Override
        public Integer call() throws Exception {
            VlOps.load();
            io.vladapt.bench.RealScaleModels.write(System.out, out, llm, shards);
            return 0;
        }
    }

    @Command(name = "block", mixinStandardHelpOptions = true,
            description = "Where a LLaMA-7B block's training step goes: each op forward and forward + backward, float32 and bfloat16.")
    static final class Block implements Runnable {
        @Option(names = "--batch", defaultValue = "2", description = "(default: ${DEFAULT-VALUE})")
        int batch;

        @Option(names = "--tokens", defaultValue = "65", description = "(default: ${DEFAULT-VALUE}, bench mma's 7B-shaped sequence)")
        int tokens;

        @Option(names = "--rounds", defaultValue = "7", description = "(default: ${DEFAULT-VALUE})")
        int rounds;

        @Option(names = "--threads", description = "threads (default: all cores)")
        Integer threads;

        @Override
        public void run() {
            VlOps.load();
            Threads.set(threads != null ? threads : Runtime.getRuntime().availableProcessors());
            io.vladapt.bench.BlockProfile.run(System.out, batch, tokens, rounds);
        }
    }

    @Command(name = "serve", mixinStandardHelpOptions = true,
            description = "OpenAI server throughput and latency at 1, 4 and 16 clients: dynamic batching vs one-at-a-time serving, on the demo "
                    + "model (or a random one of its shapes) and a LLaMA-7B-shaped stack.")
    static final class Serve implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--dir", description = "where the random benchmark models are written once (default: ~/.cache/vladapt/bench-serve)")
        java.nio.file.Path dir;

        @Option(names = "--layers", defaultValue = "2", description = "LLaMA-7B-shaped layers in the 7B stack (default: ${DEFAULT-VALUE})")
        int layers;

        @Option(names = "--skip-7b", description = "only the demo model")
        boolean skip7b;

        @Option(names = "--dtype", defaultValue = "float32", description = "(default: ${DEFAULT-VALUE})")
        String dtype;

        @Option(names = "--threads", description = "threads (default: all cores)")
        Integer threads;

        @Override
        public Integer call() throws Exception {
            CliNatives.load(threads);
            java.nio.file.Path d = dir != null ? dir : java.nio.file.Path.of(System.getProperty("user.home"), ".cache", "vladapt", "bench-serve");
            new io.vladapt.bench.ServeBench(System.out).run(d, layers, skip7b, dtype);
            return 0;
        }
    }

    @Command(name = "quant", mixinStandardHelpOptions = true,
            description = "Quantised linear kernels on LLaMA-7B shapes: streaming-read bandwidth, GEMV GB/s and 7B decode "
                    + "tokens/s equivalent (bf16 vs int8 vs int4), GEMM GFLOP/s at 128 and 512 rows.")
    static final class Quant implements Runnable {
        @Option(names = "--threads", defaultValue = "2", description = "libtorch threads (default: ${DEFAULT-VALUE})")
        int threads;

        @Option(names = "--rounds", defaultValue = "9", description = "interleaved rounds (default: ${DEFAULT-VALUE})")
        int rounds;

        @Option(names = "--set-gb", defaultValue = "1.5",
                description = "GB of weights each decode variant streams, well above the caches (default: ${DEFAULT-VALUE})")
        double setGb;

        @Option(names = "--schemes", split = ",", defaultValue = "int8,int4:128,int4:32",
                description = "schemes to compare with bf16 (default: ${DEFAULT-VALUE})")
        String[] schemes;

        @Override
        public void run() {
            CliNatives.load(threads);
            java.util.List<io.vladapt.quant.QuantScheme> s = new java.util.ArrayList<>();
            for (String x : schemes) s.add(io.vladapt.quant.QuantScheme.parse(x));
            new io.vladapt.bench.QuantBench(System.out, rounds, setGb, s).run();
        }
    }

    @Command(name = "gguf", mixinStandardHelpOptions = true,
            description = "Writes a LLaMA-shaped GGUF with random Q8_0 or Q4_0 weights, for running llama.cpp on the shape "
                    + "VLAdapt benchmarks (bench/llamacpp-bench.mjs).")
    static final class Gguf implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--type", required = true, description = "q8_0 or q4_0")
        String type;

        @Option(names = "--out", required = true, description = "the .gguf file to write")
        java.nio.file.Path out;

        @Option(names = "--layers", defaultValue = "32", description = "(default: ${DEFAULT-VALUE}, LLaMA-7B)")
        int layers;

        @Override
        public Integer call() throws Exception {
            io.vladapt.quant.GgufWriter.GgmlType t = switch (type.toLowerCase()) {
                case "q8_0" -> io.vladapt.quant.GgufWriter.GgmlType.Q8_0;
                case "q4_0" -> io.vladapt.quant.GgufWriter.GgmlType.Q4_0;
                default -> throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "--type must be q8_0 or q4_0, got " + type);
            };
            var s7 = io.vladapt.bench.RandomLlamaGguf.Shape.LLAMA_7B;
            var shape = new io.vladapt.bench.RandomLlamaGguf.Shape(layers, s7.hidden(), s7.ffn(), s7.heads(), s7.vocab());
            long t0 = System.nanoTime();
            io.vladapt.bench.RandomLlamaGguf.write(out, shape, t, 1);
            System.out.printf("wrote %s: %s, %d layers, %.2f GB in %.1f s%n", out, type, layers,
                    java.nio.file.Files.size(out) / 1e9, (System.nanoTime() - t0) / 1e9);
            return 0;
        }
    }

    static int[] threadCounts(int[] given) {
        int cores = Runtime.getRuntime().availableProcessors();
        return given != null ? given : (cores > 1 ? new int[] {1, cores} : new int[] {1});
    }
}
