package io.vladapt.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vladapt.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ScienceQA as distributed: problems.json (pid -> problem), pid_splits.json (split -> [pid]),
 * images/&lt;split&gt;/&lt;pid&gt;/image.png, and optionally captions.json ({"captions": {pid: text}}).
 * Every problem is checked on load; a missing field, an answer index outside the choices or a listed
 * image that is not on disk is an error naming the pid (or, with {@code skipMissingImages}, a skip
 * that is counted and reported), never a silently wrong label.
 */
public final class ScienceQa {
    private final Path root;
    private final Map<String, ScienceQaProblem> problems;
    private final Map<String, List<String>> splits;
    private final Map<String, String> captions;
    private final List<String> skipped;

    private ScienceQa(Path root, Map<String, ScienceQaProblem> problems, Map<String, List<String>> splits,
                      Map<String, String> captions, List<String> skipped) {
        this.root = root;
        this.problems = problems;
        this.splits = splits;
        this.captions = captions;
        this.skipped = skipped;
    }

    public static ScienceQa load(Path root, boolean skipMissingImages) {
        Path problemsFile = root.resolve("problems.json"), splitsFile = root.resolve("pid_splits.json");
        JsonNode pj = read(problemsFile), sj = read(splitsFile);
        Map<String, ScienceQaProblem> problems = new LinkedHashMap<>();
        List<String> skipped = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = pj.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            ScienceQaProblem p = ScienceQaProblem.parse(problemsFile, e.getKey(), e.getValue());
            if (p.hasImage() && !Files.isRegularFile(imagePath(root, p))) {
                if (!skipMissingImages) {
                    throw new FormatException(problemsFile + ": pid " + p.pid() + " lists image " + p.image() + " but "
                            + imagePath(root, p) + " does not exist (use --skip-missing-images to skip such problems)");
                }
                skipped.add(p.pid());
                continue;
            }
            problems.put(p.pid(), p);
        }
        Map<String, List<String>> splits = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = sj.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isArray()) throw new FormatException(splitsFile + ": split '" + e.getKey() + "' is not a list of pids");
            List<String> pids = new ArrayList<>();
            for (JsonNode pid : e.getValue()) {
                String id = pid.asText();
                if (problems.containsKey(id)) pids.add(id);
                else if (!skipped.contains(id)) {
                    throw new FormatException(splitsFile + ": split '" + e.getKey() + "' lists pid " + id + ", which problems.json lacks");
                }
            }
            splits.put(e.getKey(), pids);
        }
        Map<String, String> captions = new LinkedHashMap<>();
        Path capFile = root.resolve("captions.json");
        if (Files.isRegularFile(capFile)) {
            JsonNode c = read(capFile).get("captions");
            if (c == null || !c.isObject()) throw new FormatException(capFile + ": no \"captions\" object");
            c.fields().forEachRemaining(e -> captions.put(e.getKey(), e.getValue().asText()));
        }
        return new ScienceQa(root, problems, splits, captions, skipped);
    }

    private static JsonNode read(Path p) {
        if (!Files.isRegularFile(p)) throw new FormatException(p + " does not exist (a ScienceQA folder has problems.json and pid_splits.json)");
        try {
            JsonNode n = new ObjectMapper().readTree(Files.readString(p));
            if (n == null || !n.isObject()) throw new FormatException(p + ": not a JSON object");
            return n;
        } catch (IOException e) {
            throw new FormatException(p + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
        }
    }

    public static Path imagePath(Path root, ScienceQaProblem p) {
        return root.resolve("images").resolve(p.split()).resolve(p.pid()).resolve(p.image());
    }

    public Path imagePath(ScienceQaProblem p) {
        return imagePath(root, p);
    }

    public Path root() {
        return root;
    }

    /** Problems of a split in pid_splits.json order. */
    public List<ScienceQaProblem> split(String name) {
        List<String> pids = splits.get(name);
        if (pids == null) throw new FormatException(root.resolve("pid_splits.json") + ": no split '" + name + "' (has " + splits.keySet() + ")");
        List<ScienceQaProblem> out = new ArrayList<>();
        for (String pid : pids) out.add(problems.get(pid));
        return out;
    }

    public String caption(String pid) {
        return captions.getOrDefault(pid, "");
    }

    /** pids skipped because their image was missing (only with skipMissingImages). */
    public List<String> skipped() {
        return Collections.unmodifiableList(skipped);
    }

    public int size() {
        return problems.size();
    }
}
