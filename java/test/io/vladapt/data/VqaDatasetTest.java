package io.vladapt.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** VQA v2 question, annotation and results files: the join by question_id, round trips, named errors. */
class VqaDatasetTest {
    static final String QUESTIONS = """
            {"info": {"year": 2017}, "task_type": "Open-Ended", "data_type": "mscoco", "data_subtype": "val2014",
             "license": {"name": "x"}, "questions": [
               {"image_id": 42, "question": "What color is the bus?", "question_id": 42000},
               {"image_id": 42, "question": "How many people?", "question_id": 42001}]}
            """;
    static final String ANNOTATIONS = """
            {"info": {"year": 2017}, "license": {"name": "x"}, "data_subtype": "val2014", "annotations": [
               {"question_id": 42001, "image_id": 42, "question_type": "how many", "answer_type": "number",
                "multiple_choice_answer": "2", "answers": [{"answer": "2", "answer_confidence": "yes", "answer_id": 1},
                                                            {"answer": "two", "answer_confidence": "maybe", "answer_id": 2}]},
               {"question_id": 42000, "image_id": 42, "question_type": "what color is the", "answer_type": "other",
                "multiple_choice_answer": "red", "answers": [{"answer": "red", "answer_confidence": "yes", "answer_id": 1}]}]}
            """;

    record Files3(Path questions, Path annotations, Path images) {}

    static Files3 files(Path dir, String questions, String annotations) throws IOException {
        Path images = Files.createDirectories(dir.resolve("val2014"));
        Files.write(images.resolve("COCO_val2014_000000000042.jpg"), new byte[] {1});
        Path q = dir.resolve(VqaDataset.questionsFileName("val2014")), a = dir.resolve(VqaDataset.annotationsFileName("val2014"));
        Files.writeString(q, questions);
        Files.writeString(a, annotations);
        return new Files3(q, a, images);
    }

    @Test
    void joinsQuestionsWithAnnotations(@TempDir Path dir) throws IOException {
        Files3 f = files(dir, QUESTIONS, ANNOTATIONS);
        List<VqaDataset.Entry> e = VqaDataset.load(f.questions(), f.annotations(), f.images());
        assertEquals(2, e.size());
        assertEquals("What color is the bus?", e.get(0).question().question());
        assertEquals("red", e.get(0).annotation().multipleChoiceAnswer());
        assertEquals(List.of("2", "two"), e.get(1).annotation().answerStrings());
        assertEquals("maybe", e.get(1).annotation().answers().get(1).confidence());
        assertEquals(f.images().resolve("COCO_val2014_000000000042.jpg"), e.get(0).image());
        assertNull(VqaDataset.load(f.questions(), null, f.images()).get(0).annotation(), "test-dev has no annotations");
        assertEquals("COCO_test2015_000000000007.jpg", VqaDataset.imageFileName("test-dev2015", 7));
    }

    @Test
    void writesWhatItReads(@TempDir Path dir) throws IOException {
        Files3 f = files(dir, QUESTIONS, ANNOTATIONS);
        VqaDataset.Questions q = VqaDataset.readQuestions(f.questions());
        VqaDataset.Annotations a = VqaDataset.readAnnotations(f.annotations());
        Path q2 = dir.resolve("q2.json"), a2 = dir.resolve("a2.json");
        VqaDataset.writeQuestions(q2, q);
        VqaDataset.writeAnnotations(a2, a);
        assertEquals(q, VqaDataset.readQuestions(q2));
        assertEquals(a, VqaDataset.readAnnotations(a2));
        assertTrue(Files.readString(q2).startsWith("{\"info\":{\"year\":2017},\"task_type\":\"Open-Ended\",\"data_type\":\"mscoco\","
                + "\"data_subtype\":\"val2014\",\"license\":{\"name\":\"x\"},\"questions\":["), Files.readString(q2));
        assertTrue(Files.readString(a2).startsWith("{\"info\":{\"year\":2017},\"data_subtype\":\"val2014\",\"license\":{\"name\":\"x\"},\"annotations\":["));
    }

    @Test
    void mismatchesAreNamed(@TempDir Path dir) throws IOException {
        Files3 missing = files(dir.resolve("a"), QUESTIONS.replace("42001}]}", "42001}, {\"image_id\": 42, \"question\": \"Why?\", \"question_id\": 42002}]}"), ANNOTATIONS);
        FormatException e = assertThrows(FormatException.class, () -> VqaDataset.load(missing.questions(), missing.annotations(), missing.images()));
        assertTrue(e.getMessage().contains("no annotation for question_id 42002"), e.getMessage());

        Files3 extra = files(dir.resolve("b"), QUESTIONS.replaceAll(",\\s*\\{\"image_id\": 42, \"question\": \"How many people\\?\", \"question_id\": 42001}", ""), ANNOTATIONS);
        e = assertThrows(FormatException.class, () -> VqaDataset.load(extra.questions(), extra.annotations(), extra.images()));
        assertTrue(e.getMessage().contains("question_id 42001 has no question"), e.getMessage());

        Files3 image = files(dir.resolve("c"), QUESTIONS, ANNOTATIONS.replace("\"question_id\": 42000, \"image_id\": 42", "\"question_id\": 42000, \"image_id\": 43"));
        e = assertThrows(FormatException.class, () -> VqaDataset.load(image.questions(), image.annotations(), image.images()));
        assertTrue(e.getMessage().contains("question_id 42000 is on image_id 43"), e.getMessage());

        Files3 noImage = files(dir.resolve("d"), QUESTIONS.replace("\"image_id\": 42, \"question\": \"How", "\"image_id\": 7, \"question\": \"How"),
                ANNOTATIONS.replace("\"question_id\": 42001, \"image_id\": 42", "\"question_id\": 42001, \"image_id\": 7"));
        e = assertThrows(FormatException.class, () -> VqaDataset.load(noImage.questions(), noImage.annotations(), noImage.images()));
        assertTrue(e.getMessage().contains("COCO_val2014_000000000007.jpg") && e.getMessage().contains("question_id 42001"), e.getMessage());

        Files3 badField = files(dir.resolve("e"), QUESTIONS, ANNOTATIONS.replace("\"answer\": \"two\"", "\"answer\": 2"));
        e = assertThrows(FormatException.class, () -> VqaDataset.load(badField.questions(), badField.annotations(), badField.images()));
        assertEquals(badField.annotations() + ": annotations[0].answers[1].answer is a number (2), expected a string", e.getMessage());
    }

    @Test
    void resultsRoundTrip(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("vqa_results.json");
        List<VqaDataset.Result> r = List.of(new VqaDataset.Result(42000, "red"), new VqaDataset.Result(42001, "2"));
        VqaDataset.writeResults(f, r);
        assertEquals("[{\"question_id\":42000,\"answer\":\"red\"},{\"question_id\":42001,\"answer\":\"2\"}]", Files.readString(f));
        assertEquals(r, VqaDataset.readResults(f));
        Files.writeString(f, "[{\"answer\": \"red\"}]");
        FormatException e = assertThrows(FormatException.class, () -> VqaDataset.readResults(f));
        assertEquals(f + ": [0].question_id is missing", e.getMessage());
    }
}
