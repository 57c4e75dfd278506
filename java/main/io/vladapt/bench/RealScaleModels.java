package io.vladapt.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.data.ScienceQa;
import io.vladapt.data.ScienceQaPrompt;
import io.vladapt.data.SyntheticScienceQa;
import io.vladapt.io.AtomicFiles;
import io.vladapt.io.DType;
import io.vladapt.io.ModelConfigs;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.io.WordTokenizerBuilder;
import io.vladapt.nn.ClipVisionConfig;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.Tensors;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Real-scale files for the checks no CI machine can run: a LLaMA-7B- (or 13B-) shaped HF folder with
 * random bf16 weights in sharded safetensors (config.json, model.safetensors.index.json, a word-level
 * tokenizer.json), a CLIP ViT-L/14-shaped HF folder, and a small synthetic ScienceQA to train and
 * evaluate on. Tensors are drawn and written one at a time, so writing takes little memory.
 */
public final class RealScaleModels {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RealScaleModels() {}

    /** LLaMA-7B: d 4096, 32 layers, 32 heads, FFN 11008, vocab 32000; 13B: d 5120, 40 layers, 40 heads, FFN 13824. */
    public static LlamaConfig llama(String size) {
        return switch (size) {
            case "7b" -> new LlamaConfig(32000, 4096, 11008, 32, 32, 32, 128, 1e-6, 10000.0, null, 2048, false, false, 1, List.of(2), 0,
                    "bfloat16");
            case "13b" -> new LlamaConfig(32000, 5120, 13824, 40, 40, 40, 128, 1e-6, 10000.0, null, 2048, false, false, 1, List.of(2), 0,
                    "bfloat16");
            default -> throw new IllegalArgumentException("--llm must be 7b or 13b, got " + size);
        };
    }

    /** OpenAI CLIP ViT-L/14 at 224 px: 24 blocks of width 1024, 16 heads, MLP 4096. */
    public static final ClipVisionConfig VIT_L14 = new ClipVisionConfig(1024, 4096, 24, 16, 224, 14, 3, "quick_gelu", 1e-5);

    public static void write(PrintStream out, Path dir, String size, int shards) throws IOException {
        long t0 = System.nanoTime();
        Path data = dir.resolve("scienceqa");
        if (!Files.isDirectory(data)) SyntheticScienceQa.write(data, new SyntheticScienceQa.Spec(64, 8, 16, 224, 7));
        Path lm = dir.resolve("llama-" + size);
        writeLlama(lm, llama(size), shards, data);
        out.printf("wrote %s (%.1f GB) in %.0f s%n", lm, folderBytes(lm) / 1e9, (System.nanoTime() - t0) / 1e9);
        long t1 = System.nanoTime();
        Path vit = dir.resolve("clip-vit-l14");
        writeVit(vit, VIT_L14);
        out.printf("wrote %s (%.1f GB) in %.0f s; ScienceQA-format data in %s%n", vit, folderBytes(vit) / 1e9, (System.nanoTime() - t1) / 1e9,
                data);
    }

    static void writeLlama(Path dir, LlamaConfig c, int shards, Path sqa) throws IOException {
        Files.createDirectories(dir);
        // the tokenizer covers what the synthetic ScienceQA says (ids stay far below the 32,000 the model has)
        ScienceQa q = ScienceQa.load(sqa, false);
        List<String> corpus = new ArrayList<>();
        ScienceQaPrompt p = ScienceQaPrompt.lavin();
        for (String split : List.of("train", "val", "test")) {
            for (var pr : q.split(split)) {
                corpus.add(p.input(pr, q.caption(pr.pid())));
                corpus.add(p.target(pr));
            }
        }
        corpus.add("Image: N/A Instruction: Response: The answer is");
        WordTokenizerBuilder.write(dir, corpus, 1);
        Map<String, long[]> shapes = LlamaModel.parameterShapes(c);
        List<List<String>> parts = split(new ArrayList<>(shapes.keySet()), shapes, shards);
        ObjectNode index = JSON.createObjectNode();
        ObjectNode weightMap = index.putObject("weight_map");
        long total = 0;
        for (int s = 0; s < parts.size(); s++) {
            String file = String.format("model-%05d-of-%05d.safetensors", s + 1, parts.size());
            Map<String, SafetensorsWriter.Planned> plan = new LinkedHashMap<>();
            for (String name : parts.get(s)) {
                long[] shape = shapes.get(name);
                plan.put(name, planned(name, shape));
                weightMap.put(name, file);
                total += numel(shape) * 2;
            }
            if (!complete(dir.resolve(file), plan)) SafetensorsWriter.writePlanned(dir.resolve(file), plan, Map.of("format", "pt"));
        }
        index.putObject("metadata").put("total_size", total);
        AtomicFiles.writeString(dir.resolve("model.safetensors.index.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index));
        ModelConfigs.writeLlamaHf(c, dir.resolve("config.json"));
    }

    static void writeVit(Path dir, ClipVisionConfig c) throws IOException {
        Files.createDirectories(dir);
        Map<String, SafetensorsWriter.Planned> plan = new LinkedHashMap<>();
        ClipVisionModel.parameterShapes(c).forEach((name, shape) -> plan.put(name, planned(name, shape)));
        if (!complete(dir.resolve("model.safetensors"), plan)) SafetensorsWriter.writePlanned(dir.resolve("model.safetensors"), plan, Map.of("format", "pt"));
        ModelConfigs.writeClipVisionHf(c, dir.resolve("config.json"));
    }

    /** A shard already written in full by an earlier run (files appear only when complete: written, then renamed). */
    private static boolean complete(Path file, Map<String, SafetensorsWriter.Planned> plan) {
        if (!Files.isRegularFile(file)) return false;
        try (io.vladapt.io.SafetensorsFile f = io.vladapt.io.SafetensorsFile.open(file)) {
            return f.names().equals(plan.keySet());
        }
    }

    /** N(0, 0.02) bf16, norms at 1 and biases at 0 (as HF initialises). */
    private static SafetensorsWriter.Planned planned(String name, long[] shape) {
        return new SafetensorsWriter.Planned(DType.BF16, shape, () -> {
            if ((name.contains("norm") || name.contains("layernorm")) && name.endsWith(".weight")) {
                return Tensors.full(ScalarType.BFloat16, 1, shape);
            }
            if (name.endsWith(".bias")) return Tensors.zeros(ScalarType.BFloat16, shape);
            return torch.randn(shape, Tensors.options(ScalarType.BFloat16)).mul(new Scalar(0.02));
        });
    }

    /** Names in order, cut into shards of about equal bytes. */
    private static List<List<String>> split(List<String> names, Map<String, long[]> shapes, int shards) {
        long total = names.stream().mapToLong(n -> numel(shapes.get(n))).sum(), per = total / shards + 1, acc = 0;
        List<List<String>> parts = new ArrayList<>();
        parts.add(new ArrayList<>());
        for (String n : names) {
            if (acc >= per * parts.size() && parts.size() < shards) parts.add(new ArrayList<>());
            parts.get(parts.size() - 1).add(n);
            acc += numel(shapes.get(n));
        }
        return parts;
    }

    private static long numel(long[] s) {
        long n = 1;
        for (long d : s) n *= d;
        return n;
    }

    private static long folderBytes(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
