package io.vladapt.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * VQA v2 as distributed: a question file ({"info", "task_type": "Open-Ended", "data_type": "mscoco",
 * "data_subtype", "license", "questions": [{"image_id", "question", "question_id"}]}), an annotation
 * file ({"info", "license", "data_subtype", "annotations": [{"question_id", "image_id",
 * "question_type", "answer_type", "multiple_choice_answer", "answers": [{"answer",
 * "answer_confidence", "answer_id"}]}]}), and COCO images named COCO_&lt;subtype&gt;_&lt;12-digit
 * id&gt;.jpg in one folder. Questions and annotations are joined by question_id; a question without
 * its annotation, an annotation without its question or two that disagree on the image is an error
 * naming both files and the id, never a silently shorter dataset.
 *
 * <p>Also the results format [{"question_id", "answer"}] that VQA evaluations read.
 */
public final class VqaDataset {
    public record Question(long imageId, String question, long questionId) {}

    /**
     * One human answer; confidence is "yes", "maybe" or "no" in the released files ("yes" when a
     * file leaves it out), answerId 1-10 (0 when a file leaves it out).
     */
    public record Answer(String answer, String confidence, int answerId) {}

    public record Annotation(long questionId, long imageId, String questionType, String answerType,
                             String multipleChoiceAnswer, List<Answer> answers) {
        /** The human answers as strings (10 in VQA v2), the input of VQA accuracy. */
        public List<String> answerStrings() {
            return answers.stream().map(Answer::answer).toList();
        }
    }

    /** A question file; info and license are kept as they are (their content varies between releases). */
    public record Questions(String dataSubtype, JsonNode info, JsonNode license, List<Question> questions) {}

    public record Annotations(String dataSubtype, JsonNode info, JsonNode license, List<Annotation> annotations) {}

    /** A question with its image file and, when annotations were given, its annotation (else null). */
    public record Entry(Question question, Annotation annotation, Path image) {}

    /** One line of a results file. */
    public record Result(long questionId, String answer) {}

    private VqaDataset() {}

    /** The distributed name of a question file, e.g. v2_OpenEnded_mscoco_val2014_questions.json. */
    public static String questionsFileName(String subtype) {
        return "v2_OpenEnded_mscoco_" + subtype + "_questions.json";
    }

    /** The distributed name of an annotation file, e.g. v2_mscoco_val2014_annotations.json. */
    public static String annotationsFileName(String subtype) {
        return "v2_mscoco_" + subtype + "_annotations.json";
    }

    /** COCO_&lt;subtype&gt;_&lt;id, 12 digits&gt;.jpg; test-dev questions use the test2015 images. */
    public static String imageFileName(String subtype, long imageId) {
        String s = subtype.equals("test-dev2015") ? "test2015" : subtype;
        return String.format("COCO_%s_%012d.jpg", s, imageId);
    }

    // ---------------------------------------------------------------- reading
    public static Questions readQuestions(Path file) {
        JsonFields f = new JsonFields(file);
        JsonNode root = f.object(f.read());
        List<Question> qs = f.objects(root, "", "questions", (n, w) ->
                new Question(f.integer(n, w, "image_id"), f.text(n, w, "question"), f.integer(n, w, "question_id")));
        return new Questions(f.optionalText(root, "", "data_subtype"), root.get("info"), root.get("license"), Collections.unmodifiableList(qs));
    }

    public static Annotations readAnnotations(Path file) {
        JsonFields f = new JsonFields(file);
        JsonNode root = f.object(f.read());
        List<Annotation> as = f.objects(root, "", "annotations", (n, w) -> annotation(f, n, w));
        return new Annotations(f.optionalText(root, "", "data_subtype"), root.get("info"), root.get("license"), Collections.unmodifiableList(as));
    }

    private static Annotation annotation(JsonFields f, JsonNode n, String w) {
        List<Answer> answers = f.objects(n, w, "answers", (x, wa) -> {
            String conf = f.optionalText(x, wa, "answer_confidence");         // optional, as answer_id
            return new Answer(f.text(x, wa, "answer"), conf == null ? "yes" : conf, x.has("answer_id") ? (int) f.integer(x, wa, "answer_id") : 0);
        });
        if (answers.isEmpty()) throw f.error(w + ".answers is empty");
        return new Annotation(f.integer(n, w, "question_id"), f.integer(n, w, "image_id"), f.optionalText(n, w, "question_type"),
                f.optionalText(n, w, "answer_type"), f.text(n, w, "multiple_choice_answer"), List.copyOf(answers));
    }

    /**
     * Questions joined with their annotations (annotationsFile may be null, as for test-dev) and
     * their images in imageDir, which must exist. Images are named after the question file's
     * data_subtype (or the annotation file's when the question file has none).
     */
    public static List<Entry> load(Path questionsFile, Path annotationsFile, Path imageDir) {
        Questions qs = readQuestions(questionsFile);
        Annotations as = annotationsFile == null ? null : readAnnotations(annotationsFile);
        String subtype = qs.dataSubtype() != null ? qs.dataSubtype() : as == null ? null : as.dataSubtype();
        if (subtype == null) {
            throw new FormatException(questionsFile + ": data_subtype is missing (needed to name images COCO_<subtype>_<id>.jpg)");
        }
        Map<Long, Annotation> byId = new LinkedHashMap<>();
        if (as != null) {
            for (Annotation a : as.annotations()) {
                if (byId.put(a.questionId(), a) != null) throw new FormatException(annotationsFile + ": question_id " + a.questionId() + " is annotated twice");
            }
        }
        Set<Long> seen = new HashSet<>();
        List<Entry> out = new ArrayList<>(qs.questions().size());
        for (Question q : qs.questions()) {
            if (!seen.add(q.questionId())) throw new FormatException(questionsFile + ": question_id " + q.questionId() + " appears twice");
            Annotation a = byId.get(q.questionId());
            if (as != null && a == null) {
                throw new FormatException(annotationsFile + ": no annotation for question_id " + q.questionId() + " of " + questionsFile);
            }
            if (a != null && a.imageId() != q.imageId()) {
                throw new FormatException(annotationsFile + ": question_id " + q.questionId() + " is on image_id " + a.imageId()
                        + " but on image_id " + q.imageId() + " in " + questionsFile);
            }
            Path image = imageDir.resolve(imageFileName(subtype, q.imageId()));
            out.add(new Entry(q, a, image));
        }
        for (Long id : byId.keySet()) {
            if (!seen.contains(id)) throw new FormatException(annotationsFile + ": question_id " + id + " has no question in " + questionsFile);
        }
        checkImages(out, questionsFile);
        return out;
    }

    private static void checkImages(List<Entry> entries, Path questionsFile) {
        Map<Path, Long> missing = new LinkedHashMap<>();
        Map<Path, Boolean> checked = new HashMap<>();
        for (Entry e : entries) {
            if (!checked.computeIfAbsent(e.image(), Files::isRegularFile)) missing.putIfAbsent(e.image(), e.question().questionId());
        }
        if (!missing.isEmpty()) {
            Map.Entry<Path, Long> first = missing.entrySet().iterator().next();
            throw new FormatException(questionsFile + ": " + missing.size() + " image(s) missing, first " + first.getKey()
                    + " (question_id " + first.getValue() + ")");
        }
    }

    // ---------------------------------------------------------------- writing
    public static void writeQuestions(Path file, Questions qs) throws IOException {
        ObjectNode root = JsonFields.JSON.createObjectNode();
        header(root, qs.info(), qs.license(), qs.dataSubtype());
        ArrayNode list = root.putArray("questions");
        for (Question q : qs.questions()) list.addObject().put("image_id", q.imageId()).put("question", q.question()).put("question_id", q.questionId());
        JsonFields.write(file, root);
    }

    public static void writeAnnotations(Path file, Annotations as) throws IOException {
        ObjectNode root = JsonFields.JSON.createObjectNode();
        header(root, as.info(), as.license(), as.dataSubtype());
        root.remove(List.of("task_type", "data_type"));   // the annotation file has neither
        ArrayNode list = root.putArray("annotations");
        for (Annotation a : as.annotations()) {
            ObjectNode n = list.addObject();
            n.put("question_id", a.questionId());
            n.put("image_id", a.imageId());
            n.put("question_type", a.questionType());
            n.put("answer_type", a.answerType());
            n.put("multiple_choice_answer", a.multipleChoiceAnswer());
            ArrayNode al = n.putArray("answers");
            for (Answer x : a.answers()) al.addObject().put("answer", x.answer()).put("answer_confidence", x.confidence()).put("answer_id", x.answerId());
        }
        JsonFields.write(file, root);
    }

    private static void header(ObjectNode root, JsonNode info, JsonNode license, String subtype) {
        if (info != null) root.set("info", info);
        else root.putObject("info");
        root.put("task_type", "Open-Ended");
        root.put("data_type", "mscoco");
        root.put("data_subtype", subtype);
        if (license != null) root.set("license", license);
        else root.putObject("license");
    }

    // ---------------------------------------------------------------- results
    public static List<Result> readResults(Path file) {
        return JsonFields.readResults(file, "question_id", "answer", Result::new);
    }

    public static void writeResults(Path file, List<Result> results) throws IOException {
        JsonFields.writeResults(file, results, "question_id", Result::questionId, "answer", Result::answer);
    }
}
