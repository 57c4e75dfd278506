package io.vladapt.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.vladapt.io.AtomicFiles;
import io.vladapt.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * Typed access to the fields of a JSON file users brought (COCO, VQA), failing with a message that
 * names the file and the field's path in it, e.g. {@code dataset_coco.json: images[3].sentences[0].raw
 * is a number, expected a string}. A wrong type is an error, not a silent conversion: a caption that
 * is a number is a broken file.
 */
final class JsonFields {
    static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;

    JsonFields(Path file) {
        this.file = file;
    }

    /** The whole file, which must exist and be JSON. */
    JsonNode read() {
        if (!Files.isRegularFile(file)) throw new FormatException(file + " does not exist");
        try {
            JsonNode n = JSON.readTree(file.toFile());
            if (n == null || n.isMissingNode()) throw new FormatException(file + ": empty file");
            return n;
        } catch (IOException e) {
            throw new FormatException(file + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
        }
    }

    JsonNode object(JsonNode parent, String where, String key) {
        JsonNode n = field(parent, where, key);
        if (!n.isObject()) throw wrongType(where, key, n, "an object");
        return n;
    }

    JsonNode array(JsonNode parent, String where, String key) {
        JsonNode n = field(parent, where, key);
        if (!n.isArray()) throw wrongType(where, key, n, "a list");
        return n;
    }

    String text(JsonNode parent, String where, String key) {
        JsonNode n = field(parent, where, key);
        if (!n.isTextual()) throw wrongType(where, key, n, "a string");
        return n.asText();
    }

    long integer(JsonNode parent, String where, String key) {
        JsonNode n = field(parent, where, key);
        if (!n.isIntegralNumber() || !n.canConvertToLong()) throw wrongType(where, key, n, "an integer");
        return n.asLong();
    }

    /** A string field that may be absent (null when it is), but not of another type. */
    String optionalText(JsonNode parent, String where, String key) {
        JsonNode n = parent.get(key);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual()) throw wrongType(where, key, n, "a string");
        return n.asText();
    }

    /** Each element of the list field key of parent, which must be an object, parsed with its path ("images[3]"). */
    <T> List<T> objects(JsonNode parent, String where, String key, BiFunction<JsonNode, String, T> parse) {
        JsonNode list = array(parent, where, key);
        String at = path(where, key);
        List<T> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) out.add(parse.apply(element(list, at, i), at + "[" + i + "]"));
        return out;
    }

    /** Each element of a list field that must hold values of one kind (a string, an integer), by a check and a getter. */
    <T> List<T> values(JsonNode parent, String where, String key, Predicate<JsonNode> ok, String expected, Function<JsonNode, T> get) {
        JsonNode list = array(parent, where, key);
        List<T> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            if (!ok.test(list.get(i))) throw new FormatException(file + ": " + path(where, key) + "[" + i + "] is " + kind(list.get(i)) + ", expected " + expected);
            out.add(get.apply(list.get(i)));
        }
        return out;
    }

    /** The top-level value as a list (results files are bare lists). */
    JsonNode list(JsonNode root) {
        if (!root.isArray()) throw new FormatException(file + ": the top level is " + kind(root) + ", expected a list");
        return root;
    }

    /** The top-level value as an object. */
    JsonNode object(JsonNode root) {
        if (!root.isObject()) throw new FormatException(file + ": the top level is " + kind(root) + ", expected an object");
        return root;
    }

    /** Element i of a list, which must be an object. */
    JsonNode element(JsonNode list, String where, int i) {
        JsonNode n = list.get(i);
        if (!n.isObject()) throw new FormatException(file + ": " + where + "[" + i + "] is " + kind(n) + ", expected an object");
        return n;
    }

    FormatException error(String message) {
        return new FormatException(file + ": " + message);
    }

    private JsonNode field(JsonNode parent, String where, String key) {
        JsonNode n = parent.get(key);
        if (n == null || n.isNull()) throw new FormatException(file + ": " + path(where, key) + " is missing");
        return n;
    }

    private FormatException wrongType(String where, String key, JsonNode n, String expected) {
        return new FormatException(file + ": " + path(where, key) + " is " + kind(n) + ", expected " + expected);
    }

    private static String path(String where, String key) {
        return where.isEmpty() ? key : where + "." + key;
    }

    private static String kind(JsonNode n) {
        if (n.isTextual()) return "a string";
        if (n.isNumber()) return "a number (" + n.asText() + ")";
        if (n.isBoolean()) return "a boolean";
        if (n.isArray()) return "a list";
        if (n.isObject()) return "an object";
        return n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    }

    /** A results file: a bare list of {idKey: integer, textKey: string}, e.g. COCO's [{"image_id", "caption"}]. */
    static <T> List<T> readResults(Path file, String idKey, String textKey, BiFunction<Long, String, T> make) {
        JsonFields f = new JsonFields(file);
        JsonNode list = f.list(f.read());
        List<T> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            JsonNode n = f.element(list, "", i);
            out.add(make.apply(f.integer(n, "[" + i + "]", idKey), f.text(n, "[" + i + "]", textKey)));
        }
        return out;
    }

    static <T> void writeResults(Path file, List<T> rows, String idKey, ToLongFunction<T> id, String textKey, Function<T, String> text)
            throws IOException {
        ArrayNode list = JSON.createArrayNode();
        for (T r : rows) list.addObject().put(idKey, id.applyAsLong(r)).put(textKey, text.apply(r));
        write(file, list);
    }

    /** Writes node as compact JSON (as the datasets are distributed), atomically. */
    static void write(Path file, JsonNode node) throws IOException {
        AtomicFiles.write(file, tmp -> JSON.writeValue(tmp.toFile(), node));
    }
}
