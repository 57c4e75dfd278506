package io.vladapt.cli;

import static io.vladapt.cli.DtypeCliTest.refused;
import static io.vladapt.cli.DtypeCliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.data.SyntheticScienceQa;
import io.vladapt.io.ClipLoader;
import io.vladapt.io.LlamaLoader;
import io.vladapt.io.ModelConfigs;
import io.vladapt.io.SafetensorsFile;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.mma.MmaMemory;
import io.vladapt.nn.ClipVisionConfig;
import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.RandomInit;
import io.vladapt.quant.QuantScheme;
import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.T;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backbone and LaVIN commands with --quantize int8 and int4:64 (forward, generate, quantize,
 * mma train / eval / chat / forward), and the one-line refusals: a group that does not divide a
 * projection's width, a scheme that differs from a pre-quantised folder's, corrupt scales, a bad
 * scheme, and a model that fits only quantised (the memory check names --quantize).
 *
 * <p>The golden fixture's LLaMA has an FFN width of 176, which no int4 group (32, 64, 128) divides, so
 * the int4 runs use "llm64": the same SentencePiece tokenizer with a random HF LLaMA of width 64 and
 * FFN 128 (made here, 2 layers).
 */
class QuantizeCliTest {
    @TempDir
    static Path tmp;
    static Path sqa, golden, llm64, vit;

    @BeforeAll
    static void data() throws IOException {
        T.opts(ScalarType.Float);
        sqa = tmp.resolve("sqa");
        SyntheticScienceQa.write(sqa, new SyntheticScienceQa.Spec(16, 4, 6, 32, 3));
        golden = Fixtures.dir("lavin-golden").resolve("llama");
        vit = Fixtures.dir("lavin-golden").resolve("clip-vit.pth");
        llm64 = tmp.resolve("llm64");
        LlamaConfig g = LlamaLoader.config(golden);
        LlamaConfig c = new LlamaConfig(g.vocabSize(), 64, 128, 2, 4, 4, 16, 1e-6, 10000.0, null, 512, false, false, g.bosTokenId(),
                g.eosTokenIds(), g.padTokenId(), "float32");
        Files.createDirectories(llm64);
        try (PointerScope scope = new PointerScope(); LlamaModel m = RandomInit.llama(c, 21, ScalarType.Float)) {
            T.randomiseStd(m.params().asMap(), 0.15, 22);
            SafetensorsWriter.write(llm64.resolve("model.safetensors"), new LinkedHashMap<>(m.params().asMap()), Map.of("format", "pt"));
        }
        ModelConfigs.writeLlamaHf(c, llm64.resolve("config.json"));
        Files.copy(golden.resolve("tokenizer.model"), llm64.resolve("tokenizer.model"));
    }

    static List<String> mma(String command, Path lm, String quantize, String... more) {
        List<String> a = new ArrayList<>(List.of("mma", command, "--lm", lm.toString(), "--vit", vit.toString(), "--vit-heads", "2",
                "--neck", "16", "--dtype", "float32", "--threads", "1", "--quantize", quantize));
        a.addAll(Arrays.asList(more));
        return a;
    }

    static DtypeCliTest.Run ok(List<String> args) {
        DtypeCliTest.Run r = run(args.toArray(String[]::new));
        assertEquals(0, r.code(), String.join(" ", args) + " failed: " + r.err());
        return r;
    }

    @Test
    void everyCommandRunsQuantised() throws IOException {
        for (String[] run : new String[][] {{"int8", golden.toString()}, {"int4:64", llm64.toString()}}) {
            String scheme = run[0];
            Path lm = Path.of(run[1]);
            String tag = scheme.replace(':', '-');
            Path out = tmp.resolve("run-" + tag);
            // LaVIN-lite: the adapters train through the quantised LLM (and an int8 ViT for the int8 run)
            List<String> train = mma("train", lm, scheme, "--data", sqa.toString(), "--out", out.toString(), "--epochs", "1", "--batch", "4",
                    "--accum", "1", "--warmup", "0", "--quiet");
            if (scheme.equals("int8")) train.addAll(List.of("--quantize-vit", "int8"));
            ok(train);
            assertTrue(Files.isRegularFile(out.resolve("adapter").resolve("adapter_model.safetensors")), "adapter written");
            String metrics = Files.readString(out.resolve("metrics.jsonl"));
            assertFalse(metrics.contains("NaN") || metrics.contains("Infinity"), metrics);
            String adapter = out.resolve("adapter").toString();
            String[] answers = new String[2];
            int i = 0;
            for (String merged : new String[] {"--merged", "--temperature=0.1"}) {
                Path json = tmp.resolve("eval-" + tag + merged.replace("=", "") + ".json");
                ok(mma("eval", lm, scheme, "--adapter", adapter, "--data", sqa.toString(), "--max-new-tokens", "4", "--quiet", merged,
                        "--out", json.toString()));
                answers[i++] = outputs(json);
                ok(mma("chat", lm, scheme, "--adapter", adapter, "--image", DtypeCliTest.firstImage(sqa).toString(),
                        "--prompt", "What is in the picture?", "--max-new-tokens", "4", merged));
            }
            // --merged cannot fold into quantised weights: its answers are the unmerged ones
            assertEquals(answers[1], answers[0], "merged == unmerged under " + scheme);
            ok(mma("forward", lm, scheme, "--adapter", adapter, "--prompt", "Question: which colour?\nResponse:", "--out",
                    tmp.resolve("mf-" + tag + ".safetensors").toString()));
            ok(List.of("forward", "--model", lm.toString(), "--text", "a red circle", "--quantize", scheme, "--threads", "1", "--out",
                    tmp.resolve("f-" + tag + ".safetensors").toString()));
            ok(List.of("generate", "--model", lm.toString(), "--prompt", "a red circle", "--max-new-tokens", "4", "--quantize", scheme,
                    "--threads", "1"));
        }
    }

    /** Every "output" of an eval JSON, in order. */
    private static String outputs(Path json) throws IOException {
        var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile());
        List<String> out = new ArrayList<>();
        root.findValues("output").forEach(n -> out.add(n.asText()));
        assertFalse(out.isEmpty(), "outputs in " + json);
        return String.join("\n", out);
    }

    /** `vladapt quantize` writes a compressed-tensors folder; `forward` on it equals `forward --quantize` on the dense one. */
    @Test
    void savedPreQuantisedGivesIdenticalLogits() {
        for (String scheme : new String[] {"int8", "int4:64"}) {
            String tag = scheme.replace(':', '-');
            Path q = tmp.resolve("pre-" + tag);
            ok(List.of("quantize", "--model", llm64.toString(), "--quantize", scheme, "--dtype", "float32", "--threads", "1", "--out", q.toString()));
            assertTrue(Files.isRegularFile(q.resolve("tokenizer.model")), "tokenizer copied");
            Path atLoad = tmp.resolve("atload-" + tag + ".safetensors"), stored = tmp.resolve("stored-" + tag + ".safetensors");
            ok(List.of("forward", "--model", llm64.toString(), "--text", "a red circle", "--quantize", scheme, "--dtype", "float32",
                    "--threads", "1", "--out", atLoad.toString()));
            ok(List.of("forward", "--model", q.toString(), "--text", "a red circle", "--dtype", "float32", "--threads", "1", "--out",
                    stored.toString()));
            // naming the stored scheme is allowed too
            ok(List.of("generate", "--model", q.toString(), "--prompt", "a", "--max-new-tokens", "2", "--quantize", scheme, "--threads", "1"));
            try (PointerScope scope = new PointerScope(); SafetensorsFile a = SafetensorsFile.open(atLoad); SafetensorsFile b = SafetensorsFile.open(stored)) {
                Tensor la = a.load("logits"), lb = b.load("logits");
                assertTrue(torch.equal(la, lb), scheme + ": logits of the saved folder equal quantise-at-load's");
            }
        }
    }

    @Test
    void aGroupThatDoesNotDivideIsOneLine() {
        refused(run("generate", "--model", golden.toString(), "--prompt", "a", "--quantize", "int4:64", "--dtype", "float32", "--threads", "1"),
                "--quantize int4:64 needs every projection's in_features to be a multiple of the group 64",
                "model.layers.0.mlp.down_proj.weight [64, 176] has 176", "use int8");
        refused(run("generate", "--model", golden.toString(), "--prompt", "a", "--quantize", "int3"), "bad quantisation scheme 'int3'");
        refused(run("generate", "--model", golden.toString(), "--prompt", "a", "--quantize", "int4:48"), "int4 group must be 32, 64 or 128");
    }

    @Test
    void schemeMismatchAndCorruptScalesAreOneLine() throws IOException {
        Path q = tmp.resolve("pre-int8-bad");
        ok(List.of("quantize", "--model", llm64.toString(), "--quantize", "int8", "--dtype", "float32", "--threads", "1", "--out", q.toString()));
        refused(run("generate", "--model", q.toString(), "--prompt", "a", "--quantize", "int4:64", "--dtype", "float32", "--threads", "1"),
                "the checkpoint is quantised as int8", "--quantize int4:64 was asked for", "scheme mismatch");
        refused(run(mma("chat", q, "int4", "--adapter", tmp.resolve("none").toString(), "--prompt", "hi").toArray(String[]::new)),
                "scheme mismatch");
        // a config naming int4 over int8 codes
        Path cfg = q.resolve("config.json");
        String config = Files.readString(cfg);
        Path lying = tmp.resolve("pre-int8-lying");
        copyFolder(q, lying);
        Files.writeString(lying.resolve("config.json"), config.replace("\"num_bits\" : 8", "\"num_bits\" : 4").replace("\"int-quantized\"",
                "\"pack-quantized\"").replace("\"strategy\" : \"channel\"", "\"strategy\" : \"group\"").replace("\"group_size\" : null",
                "\"group_size\" : 64"));
        refused(run("generate", "--model", lying.toString(), "--prompt", "a", "--dtype", "float32", "--threads", "1"), "scheme mismatch");
        // corrupt scales: a zero and a NaN in one projection's scales
        for (double bad : new double[] {0, Double.NaN}) {
            Path corrupt = tmp.resolve("pre-int8-corrupt-" + (Double.isNaN(bad) ? "nan" : "zero"));
            copyFolder(q, corrupt);
            try (PointerScope scope = new PointerScope()) {
                Map<String, Tensor> all = new LinkedHashMap<>();
                try (SafetensorsFile f = SafetensorsFile.open(q.resolve("model.safetensors"))) {
                    for (String n : f.names()) all.put(n, f.load(n).clone());
                }
                Tensor s = all.get("model.layers.1.mlp.up_proj.weight_scale");
                s.narrow(0, 5, 1).fill_(new Scalar(bad));
                SafetensorsWriter.write(corrupt.resolve("model.safetensors"), all, Map.of("format", "pt"));
            }
            refused(run("generate", "--model", corrupt.toString(), "--prompt", "a", "--dtype", "float32", "--threads", "1"),
                    "model.layers.1.mlp.up_proj.weight_scale", "row 5");
        }
    }

    private static void copyFolder(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var s = Files.list(from)) {
            for (Path p : s.toList()) Files.copy(p, to.resolve(p.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** A limit between the bf16 plan and the int8 one: bf16 is refused, naming --quantize int8 and int4:64 with their sizes. */
    @Test
    void memoryRefusalSuggestsQuantize() {
        String before = System.getProperty("vladapt.memory.limit");
        try {
            LlamaConfig l = LlamaLoader.config(llm64);
            ClipVisionConfig v = ClipLoader.config(vit, 2);
            long bf16 = MmaMemory.inference(l, v, ScalarType.BFloat16, 1, 512 + 64).total();
            long int8 = MmaMemory.inference(l, v, ScalarType.BFloat16, new MmaMemory.Quant(QuantScheme.int8(), null), 1, 512 + 64).total();
            long int4 = MmaMemory.inference(l, v, ScalarType.BFloat16, new MmaMemory.Quant(QuantScheme.int4(64), null), 1, 512 + 64).total();
            assertTrue(int4 < int8 && int8 < bf16, int4 + " < " + int8 + " < " + bf16);
            System.setProperty("vladapt.memory.limit", String.valueOf((int8 + bf16) / 2));
            List<String> chat = new ArrayList<>(mma("chat", llm64, "none", "--adapter", tmp.resolve("none").toString(), "--prompt", "hi"));
            chat.set(chat.indexOf("float32"), "bfloat16");
            refused(run(chat.toArray(String[]::new)), "mma chat needs", "in bfloat16", "--quantize int8 needs", "--quantize int4:64 needs");
            // with int8 asked for, only int4 is left to suggest
            System.setProperty("vladapt.memory.limit", String.valueOf((int8 + int4) / 2));
            chat.set(chat.indexOf("none"), "int8");
            DtypeCliTest.Run r = run(chat.toArray(String[]::new));
            refused(r, "mma chat needs", "with int8 LLM weights", "--quantize int4:64 needs");
            assertFalse(r.err().contains("--quantize int8 needs"), r.err());
            // generate (the LLM alone) and training say the same
            long p16 = io.vladapt.nn.MemoryPlan.llm(l, ScalarType.BFloat16, null, 1, 512).total();
            long p8 = io.vladapt.nn.MemoryPlan.llm(l, ScalarType.BFloat16, QuantScheme.int8(), 1, 512).total();
            System.setProperty("vladapt.memory.limit", String.valueOf((p16 + p8) / 2));
            refused(run("generate", "--model", llm64.toString(), "--prompt", "a", "--dtype", "bfloat16", "--max-new-tokens", "507"),
                    "generate needs", "--quantize int8 needs");
            // LaVIN-lite at real scale (the plan only): 13B + ViT-L/14 at batch 4 x 512 does not fit 22 GB in bf16, int4 does
            LlamaConfig l13 = io.vladapt.bench.RealScaleModels.llama("13b");
            ClipVisionConfig vl = io.vladapt.bench.RealScaleModels.VIT_L14;
            long t16 = MmaMemory.training(l13, vl, ScalarType.BFloat16, 4, 512, true).total();
            long t4 = MmaMemory.training(l13, vl, ScalarType.BFloat16, new MmaMemory.Quant(QuantScheme.int4(128), null), 4, 512, true).total();
            System.out.printf("13B + ViT-L/14 training plan, batch 4 x 512, checkpointing: bf16 %.1f GB, int4 %.1f GB%n", t16 / 1e9, t4 / 1e9);
            assertTrue(t16 > 22e9 && t4 < 22e9, t4 + " < 22e9 < " + t16);
            System.setProperty("vladapt.memory.limit", "22g");
            String message = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> MmaMemory.checkTraining(l13, vl,
                    ScalarType.BFloat16, MmaMemory.Quant.NONE, 4, 512, "auto")).getMessage();
            assertTrue(message.contains("--quantize int8 (with checkpointing) needs") || message.contains("--quantize int4 (with checkpointing) needs"),
                    message);
        } finally {
            if (before == null) System.clearProperty("vladapt.memory.limit");
            else System.setProperty("vladapt.memory.limit", before);
        }
    }
}
