package io.vladapt.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vladapt.api.ChatRequest;
import io.vladapt.api.ImageInput;
import io.vladapt.api.Sampling;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A POST /v1/chat/completions body, checked field by field (every refusal names the field). The
 * conversation's text parts, in order, become one prompt (these models answer single turns); at
 * most one image may come with it, as a {@code data:} URL or, when the server allows a folder, a
 * local file.
 *
 * @param model        the model asked for (null when not given)
 * @param chat         the question for the API
 * @param imageParam   the field the image came from (for errors about it)
 * @param stream       answer with server-sent events
 * @param includeUsage stream_options.include_usage: a last chunk with the token counts
 */
record CompletionRequest(String model, ChatRequest chat, String imageParam, boolean stream, boolean includeUsage) {
    private static final ObjectMapper JSON = new ObjectMapper();

    static CompletionRequest parse(byte[] body, ServerOptions o) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new HttpError(400, "body", "body: malformed JSON (" + e.getOriginalMessage() + " at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ")");
        } catch (IOException e) {
            throw new HttpError(400, "body", "body: unreadable (" + e.getMessage() + ")");
        }
        if (root == null || !root.isObject()) throw HttpError.field("body", "must be a JSON object");
        String model = optText(root, "model");
        JsonNode n = root.get("n");
        if (n != null && !(n.canConvertToInt() && n.intValue() == 1)) throw HttpError.field("n", "only n = 1 is supported");
        int maxTokens = root.has("max_completion_tokens") ? nonNegativeInt(root, "max_completion_tokens")
                : root.has("max_tokens") ? nonNegativeInt(root, "max_tokens") : o.maxTokens();
        double temperature = number(root, "temperature", 1.0, 0, 2);
        double topP = number(root, "top_p", 1.0, 0, 1);
        if (topP == 0) throw HttpError.field("top_p", "must be in (0, 1]");
        long seed = root.has("seed") && !root.get("seed").isNull() ? integer(root, "seed") : ThreadLocalRandom.current().nextLong();
        List<String> stop = stop(root.get("stop"));
        boolean stream = bool(root, "stream");
        JsonNode so = root.get("stream_options");
        boolean usage = so != null && so.isObject() && so.path("include_usage").asBoolean(false);

        JsonNode messages = root.get("messages");
        if (messages == null || !messages.isArray()) throw HttpError.field("messages", "required, an array of messages");
        if (messages.isEmpty()) throw HttpError.field("messages", "must not be empty");
        StringBuilder text = new StringBuilder();
        ImageInput image = null;
        String imageParam = null;
        for (int i = 0; i < messages.size(); i++) {
            String at = "messages[" + i + "]";
            JsonNode m = messages.get(i);
            if (!m.isObject()) throw HttpError.field(at, "must be an object with role and content");
            String role = m.path("role").asText("");
            if (!List.of("system", "user", "assistant", "developer").contains(role)) {
                throw HttpError.field(at + ".role", "must be system, developer, user or assistant, got '" + m.path("role").asText() + "'");
            }
            JsonNode content = m.get("content");
            if (content == null || content.isNull()) throw HttpError.field(at + ".content", "required");
            if (content.isTextual()) {
                append(text, content.asText());
                continue;
            }
            if (!content.isArray()) throw HttpError.field(at + ".content", "must be a string or an array of parts");
            for (int j = 0; j < content.size(); j++) {
                String pat = at + ".content[" + j + "]";
                JsonNode part = content.get(j);
                String type = part.path("type").asText("");
                switch (type) {
                    case "text" -> {
                        if (!part.path("text").isTextual()) throw HttpError.field(pat + ".text", "required, a string");
                        append(text, part.get("text").asText());
                    }
                    case "image_url" -> {
                        if (!role.equals("user")) throw HttpError.field(pat, "images are accepted in user messages only");
                        if (image != null) throw HttpError.field(pat, "only one image per request is supported");
                        JsonNode u = part.get("image_url");
                        JsonNode url = u != null && u.isObject() ? u.get("url") : u;
                        if (url == null || !url.isTextual()) throw HttpError.field(pat + ".image_url.url", "required, a string");
                        imageParam = pat + ".image_url.url";
                        image = image(url.asText(), imageParam, o);
                    }
                    default -> throw HttpError.field(pat + ".type", "must be text or image_url, got '" + part.path("type").asText() + "'");
                }
            }
        }
        Sampling s;
        try {
            s = new Sampling(maxTokens, temperature, topP, 0, seed, stop);
        } catch (IllegalArgumentException e) {
            throw HttpError.field("body", e.getMessage());
        }
        return new CompletionRequest(model, new ChatRequest(text.toString(), image, s, null), imageParam, stream, usage);
    }

    private static void append(StringBuilder sb, String s) {
        if (sb.length() > 0 && !s.isEmpty()) sb.append('\n');
        sb.append(s);
    }

    /** A data: URL, or a file inside the allowed folder. */
    static ImageInput image(String url, String param, ServerOptions o) {
        if (url.startsWith("data:")) {
            int comma = url.indexOf(',');
            if (comma < 0 || !url.substring(0, comma).endsWith(";base64")) {
                throw HttpError.field(param, "a data: URL must be base64 (data:image/png;base64,...)");
            }
            String b64 = url.substring(comma + 1);
            long approx = (long) b64.length() * 3 / 4;
            if (o.maxImageBytes() > 0 && approx > o.maxImageBytes() + 3) {
                throw new HttpError(413, param, param + ": image of about " + approx + " bytes, over the limit of " + o.maxImageBytes());
            }
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(b64.replaceAll("\\s", ""));
            } catch (IllegalArgumentException e) {
                throw HttpError.field(param, "invalid base64 (" + e.getMessage() + ")");
            }
            if (o.maxImageBytes() > 0 && bytes.length > o.maxImageBytes()) {
                throw new HttpError(413, param, param + ": image of " + bytes.length + " bytes, over the limit of " + o.maxImageBytes());
            }
            return ImageInput.of(bytes, param);
        }
        if (url.startsWith("http://") || url.startsWith("https://")) {
            throw HttpError.field(param, "remote images are not fetched; send the image as a data: URL");
        }
        if (o.localImages() == null) {
            throw HttpError.field(param, "local image files are off (start the server with --allow-local-images DIR); send a data: URL");
        }
        Path p = Path.of(url.startsWith("file://") ? url.substring("file://".length()) : url);
        try {
            Path root = o.localImages().toRealPath(), real = root.resolve(p).toRealPath();
            if (!real.startsWith(root)) throw HttpError.field(param, "outside the allowed image folder " + root);
            if (o.maxImageBytes() > 0 && Files.size(real) > o.maxImageBytes()) {
                throw new HttpError(413, param, param + ": image of " + Files.size(real) + " bytes, over the limit of " + o.maxImageBytes());
            }
            return ImageInput.of(Files.readAllBytes(real), param);
        } catch (IOException e) {
            throw HttpError.field(param, "cannot read " + p + " (" + e.getMessage() + ")");
        }
    }

    private static String optText(JsonNode root, String f) {
        JsonNode v = root.get(f);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw HttpError.field(f, "must be a string");
        return v.asText();
    }

    private static boolean bool(JsonNode root, String f) {
        JsonNode v = root.get(f);
        if (v == null || v.isNull()) return false;
        if (!v.isBoolean()) throw HttpError.field(f, "must be true or false");
        return v.booleanValue();
    }

    private static long integer(JsonNode root, String f) {
        JsonNode v = root.get(f);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw HttpError.field(f, "must be an integer");
        return v.longValue();
    }

    private static int nonNegativeInt(JsonNode root, String f) {
        JsonNode v = root.get(f);
        if (v == null || v.isNull()) return 0;
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0) throw HttpError.field(f, "must be a non-negative integer");
        return v.intValue();
    }

    private static double number(JsonNode root, String f, double dflt, double lo, double hi) {
        JsonNode v = root.get(f);
        if (v == null || v.isNull()) return dflt;
        if (!v.isNumber() || v.doubleValue() < lo || v.doubleValue() > hi) throw HttpError.field(f, "must be a number in [" + lo + ", " + hi + "]");
        return v.doubleValue();
    }

    private static List<String> stop(JsonNode v) {
        List<String> out = new ArrayList<>();
        if (v == null || v.isNull()) return out;
        if (v.isTextual()) out.add(v.asText());
        else if (v.isArray() && v.size() <= 4) {
            for (JsonNode s : v) {
                if (!s.isTextual()) throw HttpError.field("stop", "must be a string or up to 4 strings");
                out.add(s.asText());
            }
        } else throw HttpError.field("stop", "must be a string or up to 4 strings");
        if (out.stream().anyMatch(String::isEmpty)) throw HttpError.field("stop", "stop strings must not be empty");
        return out;
    }
}
