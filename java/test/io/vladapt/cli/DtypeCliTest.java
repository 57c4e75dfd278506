package io.vladapt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.data.SyntheticScienceQa;
import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.T;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every LaVIN command and the backbone commands run with --dtype bfloat16 and --dtype auto on the
 * golden fixture's Meta LLaMA + OpenAI CLIP; bad dtypes, devices and a model too big for the memory
 * available end in one line and exit code 2, before anything is loaded.
 */
class DtypeCliTest {
    @TempDir
    static Path tmp;
    static Path sqa, lm, vit;

    @BeforeAll
    static void data() throws IOException {
        T.opts(ScalarType.Float);
        sqa = tmp.resolve("sqa");
        SyntheticScienceQa.write(sqa, new SyntheticScienceQa.Spec(16, 4, 6, 32, 3));
        lm = Fixtures.dir("lavin-golden").resolve("llama");
        vit = Fixtures.dir("lavin-golden").resolve("clip-vit.pth");
    }

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        picocli.CommandLine cl = Main.commandLine(args);
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** The MMA options that fit the golden fixture (its ViT has 2 heads, its neck is 16 wide). */
    static List<String> mma(String command, String dtype, String... more) {
        List<String> a = new ArrayList<>(List.of("mma", command, "--lm", lm.toString(), "--vit", vit.toString(), "--vit-heads", "2",
                "--neck", "16", "--dtype", dtype, "--threads", "1"));
        a.addAll(Arrays.asList(more));
        return a;
    }

    static void ok(List<String> args) {
        Run r = run(args.toArray(String[]::new));
        assertEquals(0, r.code(), String.join(" ", args) + " failed: " + r.err());
    }

    @Test
    void everyCommandRunsInBf16AndAuto() {
        for (String dtype : new String[] {"bfloat16", "auto"}) {
            Path out = tmp.resolve("run-" + dtype);
            ok(mma("train", dtype, "--data", sqa.toString(), "--out", out.toString(), "--epochs", "1", "--batch", "4", "--accum", "1",
                    "--warmup", "0", "--quiet"));
            assertTrue(Files.isRegularFile(out.resolve("adapter").resolve("adapter_model.safetensors")), "adapter written");
            ok(mma("train", dtype, "--data", sqa.toString(), "--out", tmp.resolve("ckpt-" + dtype).toString(), "--epochs", "1", "--batch",
                    "4", "--accum", "1", "--warmup", "0", "--quiet", "--checkpointing", "on"));
            String adapter = out.resolve("adapter").toString();
            for (String merged : new String[] {"--merged", "--temperature=0"}) {
                ok(mma("eval", dtype, "--adapter", adapter, "--data", sqa.toString(), "--max-new-tokens", "4", "--quiet", merged,
                        "--out", tmp.resolve("eval-" + dtype + merged + ".json").toString()));
                ok(mma("chat", dtype, "--adapter", adapter, "--image", firstImage(sqa).toString(),
                        "--prompt", "What is in the picture?", "--max-new-tokens", "4", merged));
            }
            ok(mma("forward", dtype, "--adapter", adapter, "--prompt", "Question: which colour?\nResponse:", "--out",
                    tmp.resolve("mf-" + dtype + ".safetensors").toString()));
            ok(List.of("forward", "--model", lm.toString(), "--text", "a red circle", "--dtype", dtype, "--out",
                    tmp.resolve("f-" + dtype + ".safetensors").toString()));
            ok(List.of("generate", "--model", lm.toString(), "--prompt", "a red circle", "--max-new-tokens", "4", "--dtype", dtype));
        }
    }

    /** The first PNG under a synthetic ScienceQA's images/ folder. */
    static Path firstImage(Path sqa) {
        try (var s = Files.walk(sqa.resolve("images"))) {
            return s.filter(p -> p.toString().endsWith(".png")).findFirst().orElseThrow();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void autoSaysWhatItChoseAndWhy() {
        String before = System.getProperty("vladapt.cpu.flags");
        try {
            System.setProperty("vladapt.cpu.flags", "avx2 avx512f amx_tile amx_bf16");
            Run r = run("generate", "--model", lm.toString(), "--prompt", "a", "--max-new-tokens", "1", "--threads", "1");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.err().contains("dtype auto -> bfloat16") && r.err().contains("amx_bf16"), r.err());
            System.setProperty("vladapt.cpu.flags", "avx2 avx512f");
            r = run("generate", "--model", lm.toString(), "--prompt", "a", "--max-new-tokens", "1", "--threads", "1");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.err().contains("dtype auto -> float32"), r.err());
        } finally {
            if (before == null) System.clearProperty("vladapt.cpu.flags");
            else System.setProperty("vladapt.cpu.flags", before);
        }
    }

    /** One line, exit 2, no stack trace. */
    static void refused(Run r, String... expected) {
        assertEquals(2, r.code(), r.err());
        String line = r.err().strip();
        assertFalse(line.contains("\n"), "one line: " + line);
        assertFalse(line.contains("Exception") || line.contains("\tat "), "no stack trace: " + line);
        for (String e : expected) assertTrue(line.contains(e), "'" + e + "' in: " + line);
    }

    @Test
    void aModelThatDoesNotFitIsRefusedBeforeLoadingNamingWhatFits() {
        String before = System.getProperty("vladapt.memory.limit");
        try {
            System.setProperty("vladapt.memory.limit", "100m");
            refused(run(mma("train", "float32", "--data", sqa.toString(), "--out", tmp.resolve("never").toString(), "--quiet")
                    .toArray(String[]::new)), "mma train needs", "is available", "no dtype or option fits");
            assertFalse(Files.exists(tmp.resolve("never").resolve("metrics.jsonl")), "nothing trained");
            refused(run(mma("chat", "float32", "--adapter", tmp.resolve("none").toString(), "--prompt", "hi").toArray(String[]::new)),
                    "mma chat needs", "is available");
            refused(run("generate", "--model", lm.toString(), "--prompt", "a", "--dtype", "float32"), "generate needs", "is available");
            // a limit between the float32 and the bfloat16 plan: float32 is refused, naming --dtype bfloat16
            io.vladapt.nn.LlamaConfig l = io.vladapt.io.LlamaLoader.config(lm);
            io.vladapt.nn.ClipVisionConfig v = io.vladapt.io.ClipLoader.config(vit, 2);
            long f32 = io.vladapt.mma.MmaMemory.inference(l, v, ScalarType.Float, 1, 512 + 64).total();
            long bf16 = io.vladapt.mma.MmaMemory.inference(l, v, ScalarType.BFloat16, 1, 512 + 64).total();
            System.setProperty("vladapt.memory.limit", String.valueOf((f32 + bf16) / 2));
            refused(run(mma("chat", "float32", "--adapter", tmp.resolve("none").toString(), "--prompt", "hi").toArray(String[]::new)),
                    "mma chat needs", "in float32", "--dtype bfloat16 needs");
        } finally {
            if (before == null) System.clearProperty("vladapt.memory.limit");
            else System.setProperty("vladapt.memory.limit", before);
        }
    }

    @Test
    void badDtypeOrDeviceIsOneLine() {
        refused(run("generate", "--model", lm.toString(), "--prompt", "a", "--dtype", "int8"), "--dtype must be auto, float32, bfloat16 or float16");
        refused(run("generate", "--model", lm.toString(), "--prompt", "a", "--device", "tpu"), "--device must be cpu, cuda, cuda:N or meta");
        refused(run("generate", "--model", lm.toString(), "--prompt", "a", "--device", "cuda:0"), "--device cuda:0");
        // serve shares the options (and --dtype auto as the default) with every other model command
        String[] serve = {"serve", "--lm", lm.toString(), "--vit", vit.toString(), "--adapter", tmp.toString(), "--port", "0"};
        refused(run(concat(serve, "--dtype", "int8")), "--dtype must be auto, float32, bfloat16 or float16");
        refused(run(concat(serve, "--device", "tpu")), "--device must be cpu, cuda, cuda:N or meta");
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
