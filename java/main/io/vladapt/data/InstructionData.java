package io.vladapt.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vladapt.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Extra training sources in LaVIN's chatbot recipe, as prompt/answer pairs:
 * Alpaca ([{"instruction", "input", "output"}], text-only) and LLaVA instruction JSON
 * ([{"id", "image"?, "conversations": [{"from": "human", ...}, {"from": "gpt", ...}, ...]}]), whose
 * conversations are split into independent turns without history, "&lt;image&gt;" removed, as LaVIN does.
 * Prompts read {@code Instruction: ...\nResponse:}.
 */
public final class InstructionData {
    /** One prompt, its answer, and the image it is about (null for text-only). */
    public record Sample(String prompt, String answer, Path image) {}

    private InstructionData() {}

    public static String prompt(String instruction) {
        return "Instruction: " + instruction.strip() + "\nResponse:";
    }

    public static List<Sample> alpaca(Path file) {
        JsonNode root = read(file);
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            JsonNode e = root.get(i);
            String ins = text(e, "instruction", file, i), in = e.path("input").asText(""), output = text(e, "output", file, i);
            out.add(new Sample(prompt((ins + " " + in).strip()), output, null));
        }
        return out;
    }

    /** @param imageRoot folder the entries' "image" paths are relative to */
    public static List<Sample> llava(Path file, Path imageRoot) {
        JsonNode root = read(file);
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            JsonNode e = root.get(i);
            JsonNode conv = e.get("conversations");
            if (conv == null || !conv.isArray()) throw new FormatException(file + ": entry " + i + " has no 'conversations' list");
            Path image = e.hasNonNull("image") ? imageRoot.resolve(e.get("image").asText()) : null;
            if (image != null && !Files.isRegularFile(image)) {
                throw new FormatException(file + ": entry " + i + " (" + e.path("id").asText("?") + ") names image " + image + ", which does not exist");
            }
            for (int t = 0; t + 1 < conv.size(); t += 2) {
                JsonNode h = conv.get(t), g = conv.get(t + 1);
                if (!"human".equals(h.path("from").asText()) || !"gpt".equals(g.path("from").asText())) {
                    throw new FormatException(file + ": entry " + i + " turn " + t + " is not a human/gpt pair");
                }
                String q = h.path("value").asText().replace("<image>", "").strip();
                out.add(new Sample(prompt(q), g.path("value").asText().strip(), image));
            }
        }
        return out;
    }

    private static JsonNode read(Path file) {
        try {
            JsonNode n = new ObjectMapper().readTree(Files.readString(file));
            if (n == null || !n.isArray()) throw new FormatException(file + ": expected a JSON list");
            return n;
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read JSON (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
        }
    }

    private static String text(JsonNode e, String key, Path file, int i) {
        JsonNode v = e.get(key);
        if (v == null || v.isNull()) throw new FormatException(file + ": entry " + i + " has no '" + key + "'");
        return v.asText();
    }
}
