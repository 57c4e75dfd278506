package io.vladapt.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.eval.ScienceQaScore;
import io.vladapt.io.FormatException;
import io.vladapt.testutil.T;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The synthetic generator writes ScienceQA's layout; the loader reads it back and refuses broken copies. */
class ScienceQaDataTest {
    @TempDir
    static Path tmp;
    static Path root;

    @BeforeAll
    static void generate() throws IOException {
        T.opts(ScalarType.Float);
        root = tmp.resolve("sqa");
        assertEquals(260, SyntheticScienceQa.write(root, new SyntheticScienceQa.Spec(200, 20, 40, 64, 3)));
    }

    @Test
    void generatedLayoutLoadsAndPopulatesEveryCategory() {
        ScienceQa sqa = ScienceQa.load(root, false);
        assertEquals(260, sqa.size());
        List<ScienceQaProblem> train = sqa.split("train");
        assertEquals(200, train.size());
        for (String c : ScienceQaScore.CATEGORIES) {
            assertTrue(train.stream().filter(p -> ScienceQaScore.in(c, p)).count() > 5, "category " + c + " is populated");
        }
        try (PointerScope scope = new PointerScope()) {
            for (ScienceQaProblem p : sqa.split("test")) {
                if (!p.hasImage()) continue;
                assertTrue(Files.isRegularFile(sqa.imagePath(p)));
                assertEquals(3, ImagePipeline.lavin().load(sqa.imagePath(p)).size(0));
                assertTrue(sqa.caption(p.pid()).startsWith("The picture shows"));
            }
        }
    }

    @Test
    void sameSeedSameDataset() throws IOException {
        Path again = tmp.resolve("again");
        SyntheticScienceQa.write(again, new SyntheticScienceQa.Spec(200, 20, 40, 64, 3));
        assertEquals(Files.readString(root.resolve("problems.json")), Files.readString(again.resolve("problems.json")));
        assertTrue(java.util.Arrays.equals(Files.readAllBytes(root.resolve("images/train/1/image.png")),
                Files.readAllBytes(again.resolve("images/train/1/image.png"))) || !Files.exists(root.resolve("images/train/1/image.png")));
    }

    @Test
    void lavinPromptFormat() {
        ScienceQaProblem p = new ScienceQaProblem("7", "Which is colder?", List.of("fire", "ice"), 1, "", null, "", "grade3",
                "natural science", "", "", "", "Heat\nmoves.", "Ice is  colder.", "test");
        ScienceQaPrompt f = ScienceQaPrompt.lavin();
        assertEquals("Question: Which is colder?\nContext: N/A\nOptions: (A) fire (B) ice\nResponse:", f.input(p, ""));
        assertEquals("The answer is B. BECAUSE: Heat\\nmoves. Ice is colder.", f.target(p));
        ScienceQaProblem bare = new ScienceQaProblem("8", "Q?", List.of("a", "b"), 0, "", null, "", "grade3",
                "natural science", "", "", "", "", "", "test");
        assertEquals("The answer is A.", f.target(bare), "no dangling BECAUSE:");
        assertEquals("Context: N/A\nQuestion: Q?\nOptions: (A) a (B) b\nAnswer:", new ScienceQaPrompt("CQM-A", "Answer:", false).input(bare, ""));
        assertThrows(IllegalArgumentException.class, () -> new ScienceQaPrompt("XYZ-A", "Answer:", false));
    }

    Path brokenCopy(String name, String problemsJson) throws IOException {
        Path d = tmp.resolve(name);
        Files.createDirectories(d);
        Files.writeString(d.resolve("problems.json"), problemsJson);
        Files.writeString(d.resolve("pid_splits.json"), "{\"test\": [\"1\"]}");
        return d;
    }

    static final String GOOD = "\"question\": \"Q?\", \"choices\": [\"a\", \"b\"], \"answer\": 1, \"hint\": \"\", "
            + "\"task\": \"t\", \"grade\": \"grade2\", \"subject\": \"natural science\", \"lecture\": \"\", \"solution\": \"\", \"split\": \"test\"";

    @Test
    void missingFieldIsNamed() throws IOException {
        Path d = brokenCopy("nofield", "{\"1\": {" + GOOD.replace("\"answer\": 1, ", "") + ", \"image\": null}}");
        FormatException e = assertThrows(FormatException.class, () -> ScienceQa.load(d, false));
        assertTrue(e.getMessage().contains("pid 1: field 'answer' is missing"), e.getMessage());
        Path d2 = brokenCopy("badanswer", "{\"1\": {" + GOOD.replace("\"answer\": 1", "\"answer\": 5") + ", \"image\": null}}");
        FormatException e2 = assertThrows(FormatException.class, () -> ScienceQa.load(d2, false));
        assertTrue(e2.getMessage().contains("pid 1: answer index 5 is outside its 2 choices"), e2.getMessage());
    }

    @Test
    void pidWithoutItsImageIsAnErrorOrACountedSkip() throws IOException {
        Path d = brokenCopy("noimage", "{\"1\": {" + GOOD + ", \"image\": \"image.png\"}}");
        FormatException e = assertThrows(FormatException.class, () -> ScienceQa.load(d, false));
        assertTrue(e.getMessage().contains("pid 1 lists image image.png but"), e.getMessage());
        ScienceQa skipped = ScienceQa.load(d, true);
        assertEquals(List.of("1"), skipped.skipped());
        assertEquals(0, skipped.split("test").size());
    }
}
