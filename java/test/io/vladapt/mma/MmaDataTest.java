package io.vladapt.mma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.data.ImagePipeline;
import io.vladapt.data.InstructionData;
import io.vladapt.data.ScienceQa;
import io.vladapt.data.ScienceQaProblem;
import io.vladapt.data.ScienceQaPrompt;
import io.vladapt.data.SyntheticScienceQa;
import io.vladapt.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Turning data into MMA examples: labels, too-long prompts, broken images, Alpaca and LLaVA files. */
class MmaDataTest {
    @TempDir
    static Path tmp;
    static final ImagePipeline PIPE = new ImagePipeline(16, ImagePipeline.Resize.SQUASH, ImagePipeline.IMAGENET_MEAN,
            ImagePipeline.IMAGENET_STD);

    @BeforeAll
    static void data() throws IOException {
        SyntheticScienceQa.write(tmp.resolve("sqa"), new SyntheticScienceQa.Spec(30, 2, 2, 32, 9));
    }

    @Test
    void supervisedSpanIsExactlyTheAnswerAndEos() {
        try (TinyMma t = new TinyMma(false, 1)) {
            MmaModel.Encoded e = t.model.encode("Question: q Response:", "The answer is A.", true);
            long[] answer = t.tok.encode("The answer is A.", false);
            assertEquals(e.ids().length - answer.length - 1, e.answerStart());
            assertEquals(t.tok.eosId(), e.ids()[e.ids().length - 1]);
            MmaBatch b = MmaBatch.of(List.of(e), java.util.Arrays.asList(t.image(1)), false, 0);
            long[] labels = io.vladapt.nn.Tensors.toLongs(b.labels());
            long supervised = java.util.Arrays.stream(labels).filter(l -> l != -100).count();
            assertEquals(answer.length + 1, supervised, "answer tokens and EOS, nothing else");
        }
    }

    @Test
    void promptLongerThanTheContextIsSkippedAndCounted() {
        try (TinyMma t = new TinyMma(false, 1)) {
            ScienceQa sqa = ScienceQa.load(tmp.resolve("sqa"), false);
            try (MmaData all = MmaData.scienceQa(sqa, "train", t.model, ScienceQaPrompt.lavin(), PIPE, 512, true, true, 0);
                 MmaData cut = MmaData.scienceQa(sqa, "train", t.model, ScienceQaPrompt.lavin(), PIPE, 40, true, true, 0)) {
                assertEquals(30, all.examples().size());
                assertEquals(0, all.skippedTooLong());
                assertTrue(cut.skippedTooLong() > 0, "some samples do not fit 40 positions");
                assertEquals(30, cut.examples().size() + cut.skippedTooLong());
                cut.examples().forEach(ex -> assertTrue(ex.encoded().ids().length + 1 <= 40));
            }
        }
    }

    @Test
    void anImageThatIsNotAnImageIsNamed() throws IOException {
        Path copy = tmp.resolve("broken");
        copyTree(tmp.resolve("sqa"), copy);
        ScienceQa sqa = ScienceQa.load(copy, false);
        ScienceQaProblem withImage = sqa.split("train").stream().filter(ScienceQaProblem::hasImage).findFirst().orElseThrow();
        Files.writeString(sqa.imagePath(withImage), "not a png");
        try (TinyMma t = new TinyMma(false, 1)) {
            FormatException e = assertThrows(FormatException.class,
                    () -> MmaData.scienceQa(sqa, "train", t.model, ScienceQaPrompt.lavin(), PIPE, 512, true, true, 0).close());
            assertTrue(e.getMessage().startsWith(sqa.imagePath(withImage).toString()), e.getMessage());
        }
    }

    @Test
    void alpacaAndLlavaFiles() throws IOException {
        Path alpaca = tmp.resolve("alpaca.json");
        Files.writeString(alpaca, "[{\"instruction\": \"Name a colour.\", \"input\": \"\", \"output\": \"Red.\"}]");
        List<InstructionData.Sample> a = InstructionData.alpaca(alpaca);
        assertEquals(new InstructionData.Sample("Instruction: Name a colour.\nResponse:", "Red.", null), a.get(0));
        Path img = tmp.resolve("sqa/images/train").toFile().listFiles()[0].toPath().resolve("image.png");
        Path llava = tmp.resolve("llava.json");
        Files.writeString(llava, "[{\"id\": \"x\", \"image\": \"" + img.getFileName() + "\", \"conversations\": ["
                + "{\"from\": \"human\", \"value\": \"<image>\\nWhat is this?\"}, {\"from\": \"gpt\", \"value\": \"Shapes.\"},"
                + "{\"from\": \"human\", \"value\": \"How many?\"}, {\"from\": \"gpt\", \"value\": \"Two.\"}]}]");
        List<InstructionData.Sample> l = InstructionData.llava(llava, img.getParent());
        assertEquals(2, l.size(), "turns become independent samples");
        assertEquals("Instruction: What is this?\nResponse:", l.get(0).prompt());
        assertEquals("Two.", l.get(1).answer());
        Files.writeString(llava, "[{\"id\": \"x\", \"image\": \"missing.png\", \"conversations\": []}]");
        FormatException e = assertThrows(FormatException.class, () -> InstructionData.llava(llava, img.getParent()));
        assertTrue(e.getMessage().contains("names image"), e.getMessage());
        Files.writeString(alpaca, "[{\"input\": \"\", \"output\": \"Red.\"}]");
        FormatException e2 = assertThrows(FormatException.class, () -> InstructionData.alpaca(alpaca));
        assertTrue(e2.getMessage().contains("entry 0 has no 'instruction'"), e2.getMessage());
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(q);
                else Files.copy(p, q);
            }
        }
    }
}
