package io.vladapt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vladapt.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Option defaults from a config file given with {@code --config}: a JSON object, or YAML-style
 * "key: value" lines, keyed by option names without dashes ({"epochs": 20, "blr": 9e-3}). Options on
 * the command line still win; keys that match no option are reported.
 */
final class ConfigDefaults implements IDefaultValueProvider {
    private final Map<String, String> values;

    private ConfigDefaults(Map<String, String> values) {
        this.values = values;
    }

    /** Finds --config in the raw arguments (before picocli parses them) and reads the file. */
    static ConfigDefaults from(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--config") && i + 1 < args.length) return new ConfigDefaults(read(Path.of(args[i + 1])));
            if (a.startsWith("--config=")) return new ConfigDefaults(read(Path.of(a.substring("--config=".length()))));
        }
        return new ConfigDefaults(Map.of());
    }

    static Map<String, String> read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new FormatException("cannot read config file " + file + " (" + e.getMessage() + ")", e);
        }
        Map<String, String> out = new LinkedHashMap<>();
        if (text.strip().startsWith("{")) {
            try {
                JsonNode j = new ObjectMapper().readTree(text);
                j.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString()));
            } catch (IOException e) {
                throw new FormatException(file + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
            }
            return out;
        }
        int n = 0;
        for (String line : text.split("\n")) {
            n++;
            String l = line.replaceAll("\\s+#.*$", "").strip();
            if (l.isEmpty() || l.startsWith("#")) continue;
            int colon = l.indexOf(':');
            if (colon < 1) throw new FormatException(file + ": line " + n + " is not 'key: value': " + line);
            String v = l.substring(colon + 1).strip();
            if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
                v = v.substring(1, v.length() - 1);
            }
            out.put(l.substring(0, colon).strip(), v);
        }
        return out;
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec o)) return null;
        String key = o.longestName().replaceFirst("^-+", "");
        return values.get(key);
    }

    Map<String, String> values() {
        return values;
    }
}
