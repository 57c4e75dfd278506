package io.vladapt.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.io.FormatException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One ScienceQA problem with the fields of problems.json.
 *
 * @param image "image.png", or null for problems without an image
 * @param grade "grade1" .. "grade12"
 */
public record ScienceQaProblem(String pid, String question, List<String> choices, int answer, String hint,
                               String image, String task, String grade, String subject, String topic,
                               String category, String skill, String lecture, String solution, String split) {

    public ScienceQaProblem {
        choices = List.copyOf(choices);
    }

    public boolean hasImage() {
        return image != null && !image.isEmpty();
    }

    /** ScienceQA's TXT category: a non-empty hint. */
    public boolean hasContext() {
        return hint != null && !hint.isEmpty();
    }

    public int gradeNumber() {
        return Integer.parseInt(grade.substring("grade".length()));
    }

    /** The letter of the correct choice. */
    public char answerLetter() {
        return (char) ('A' + answer);
    }

    static ScienceQaProblem parse(Path file, String pid, JsonNode n) {
        String at = file + ": pid " + pid;
        if (!n.isObject()) throw new FormatException(at + " is not an object");
        JsonNode choices = n.get("choices");
        if (choices == null || !choices.isArray()) throw new FormatException(at + ": field 'choices' is missing");
        if (choices.size() < 2 || choices.size() > 26) throw new FormatException(at + ": " + choices.size() + " choices (need 2 to 26)");
        List<String> cs = new ArrayList<>();
        choices.forEach(c -> cs.add(c.asText()));
        JsonNode ans = n.get("answer");
        if (ans == null || !ans.canConvertToInt()) throw new FormatException(at + ": field 'answer' is missing or not an integer");
        int answer = ans.asInt();
        if (answer < 0 || answer >= cs.size()) {
            throw new FormatException(at + ": answer index " + answer + " is outside its " + cs.size() + " choices");
        }
        String grade = text(n, "grade", at);
        if (!grade.matches("grade([1-9]|1[0-2])")) throw new FormatException(at + ": grade '" + grade + "' is not grade1..grade12");
        String subject = text(n, "subject", at);
        if (!subject.equals("natural science") && !subject.equals("social science") && !subject.equals("language science")) {
            throw new FormatException(at + ": subject '" + subject + "' is not natural, social or language science");
        }
        JsonNode image = n.get("image");
        if (image == null) throw new FormatException(at + ": field 'image' is missing (null for text-only problems)");
        return new ScienceQaProblem(pid, text(n, "question", at), cs, answer, text(n, "hint", at),
                image.isNull() ? null : image.asText(), n.path("task").asText(""), grade, subject, n.path("topic").asText(""),
                n.path("category").asText(""), n.path("skill").asText(""), text(n, "lecture", at), text(n, "solution", at),
                text(n, "split", at));
    }

    private static String text(JsonNode n, String key, String at) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) throw new FormatException(at + ": field '" + key + "' is missing");
        return v.asText();
    }

    /** The problem as problems.json holds it. */
    public ObjectNode toJson(ObjectMapper json) {
        ObjectNode o = json.createObjectNode();
        o.put("question", question);
        choices.forEach(o.putArray("choices")::add);
        o.put("answer", answer);
        o.put("hint", hint);
        if (hasImage()) o.put("image", image);
        else o.putNull("image");
        o.put("task", task);
        o.put("grade", grade);
        o.put("subject", subject);
        o.put("topic", topic);
        o.put("category", category);
        o.put("skill", skill);
        o.put("lecture", lecture);
        o.put("solution", solution);
        o.put("split", split);
        return o;
    }
}
