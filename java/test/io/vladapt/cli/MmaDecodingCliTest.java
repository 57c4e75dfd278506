package io.vladapt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vladapt.api.TinyModels;
import io.vladapt.data.SyntheticScienceQa;
import io.vladapt.testutil.T;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mma eval and mma chat take the decoding flags (--beams, --length-penalty, --min-new-tokens,
 * --max-new-tokens, --no-repeat-ngram) on the API's tiny LaVIN; eval records them; bad combinations
 * end in one line with exit code 2. (mma chat --beams equals the API and MmaInference: ApiTest.)
 */
class MmaDecodingCliTest {
    @TempDir
    static Path tmp;
    static TinyModels t;
    static Path sqa;

    @BeforeAll
    static void data() throws Exception {
        T.opts(ScalarType.Float);
        t = TinyModels.get();
        sqa = tmp.resolve("sqa");
        SyntheticScienceQa.write(sqa, new SyntheticScienceQa.Spec(8, 2, 4, 32, 3));
    }

    record Run(int code, String out, String err) {}

    static Run run(List<String> args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        String[] a = args.toArray(String[]::new);
        picocli.CommandLine cl = Main.commandLine(a);
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(a);
        return new Run(code, out.toString(), err.toString());
    }

    static List<String> mma(String command, String... more) {
        List<String> a = new ArrayList<>(List.of("mma", command, "--lm", t.llm.toString(), "--vit", t.vit.toString(), "--adapter",
                t.adapter.toString(), "--dtype", "float32", "--threads", "1"));
        a.addAll(Arrays.asList(more));
        return a;
    }

    @Test
    void evalRecordsTheBeamSettings() throws Exception {
        Path out = tmp.resolve("eval.json");
        Run r = run(mma("eval", "--data", sqa.toString(), "--split", "test", "--batch", "4", "--quiet", "--out", out.toString(),
                "--temperature", "0", "--beams", "3", "--length-penalty", "-1", "--min-new-tokens", "1", "--max-new-tokens", "6",
                "--no-repeat-ngram", "2"));
        assertEquals(0, r.code(), r.err());
        JsonNode root = new ObjectMapper().readTree(out.toFile());
        assertTrue(root.get("predictions").size() > 0, r.out());
        JsonNode d = root.get("decoding");
        assertEquals(3, d.get("num_beams").asInt());
        assertEquals(-1.0, d.get("length_penalty").asDouble());
        assertEquals(1, d.get("min_new_tokens").asInt());
        assertEquals(6, d.get("max_new_tokens").asInt());
        assertEquals(2, d.get("no_repeat_ngram_size").asInt());
    }

    @Test
    void badDecodingSettingsEndInOneLine() {
        // beams with LaVIN's default sampling (temperature 0.1)
        Run sampled = run(mma("chat", "--prompt", "hi", "--beams", "3"));
        refused(sampled, "3 beams need temperature 0");
        refused(run(mma("chat", "--prompt", "hi", "--beams", "0", "--temperature", "0")), "beams must be >= 1, got 0");
        refused(run(mma("chat", "--prompt", "hi", "--min-new-tokens", "9", "--max-new-tokens", "4")),
                "min new tokens (9) must not exceed max new tokens (4)");
        refused(run(mma("eval", "--data", sqa.toString(), "--quiet", "--no-repeat-ngram", "-1")), "no-repeat n-gram size must be >= 0");
    }

    static void refused(Run r, String expected) {
        assertEquals(2, r.code(), r.err());
        String line = r.err().strip();
        assertFalse(line.contains("\n"), "one line: " + line);
        assertTrue(line.contains(expected), "'" + expected + "' in: " + line);
    }
}
