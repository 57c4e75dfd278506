package io.vladapt.vpg;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.io.AtomicFiles;
import io.vladapt.io.FormatException;
import io.vladapt.io.ModelConfigs;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Q-Former configs on disk: the qformer_config section of an HF Blip2Config config.json, and VLAdapt's
 * own small JSON (every field written out, model_type "vladapt-qformer").
 */
public final class QFormerConfigFiles {
    public static final String MODEL_TYPE = "vladapt-qformer";
    private static final ObjectMapper JSON = new ObjectMapper();

    private QFormerConfigFiles() {}

    /** Either kind of file, told apart by its content. */
    public static QFormerConfig read(Path json) {
        JsonNode n = ModelConfigs.readJson(json);
        if (n.has("qformer_config")) return fromBlip2(json, n);
        if (MODEL_TYPE.equals(n.path("model_type").asText())) return fromOwn(json, n);
        throw new FormatException(json + ": neither a BLIP-2 config.json (no 'qformer_config') nor a Q-Former config"
                + " (model_type is not '" + MODEL_TYPE + "')");
    }

    /**
     * An HF Blip2Config. Hub files store only what differs from the defaults (Salesforce/blip2-opt-2.7b's
     * qformer_config is just its model_type), so a missing field takes transformers' default, as
     * transformers itself does; the spelling is the same in transformers 4 and 5. Like Blip2Config, the
     * cross-attention input width is the vision tower's hidden_size, whatever qformer_config's
     * encoder_hidden_size says, and ln_vision's eps is the vision tower's layer_norm_eps.
     */
    static QFormerConfig fromBlip2(Path file, JsonNode root) {
        JsonNode q = root.get("qformer_config"), v = root.path("vision_config");
        if (!q.isObject()) throw new FormatException(file + ": 'qformer_config' is not an object");
        Fields f = new Fields(file, q, "qformer_config.");
        String act = q.path("hidden_act").asText("gelu");
        if (!act.equals("gelu")) {
            throw new FormatException(file + ": qformer_config.hidden_act '" + act + "' is not supported (BLIP-2 uses gelu)");
        }
        Fields vf = new Fields(file, v, "vision_config.");
        int encoder = vf.integer("hidden_size", 1408);                 // Blip2VisionConfig's default: EVA ViT-g
        return new QFormerConfig(f.integer("hidden_size", 768), f.integer("num_hidden_layers", 12),
                f.integer("num_attention_heads", 12), f.integer("intermediate_size", 3072),
                f.integer("cross_attention_frequency", 2), encoder,
                new Fields(file, root, "").integer("num_query_tokens", 32), f.number("layer_norm_eps", 1e-12),
                vf.number("layer_norm_eps", 1e-6), f.number("hidden_dropout_prob", 0.1),
                f.number("attention_probs_dropout_prob", 0.1));
    }

    /** VLAdapt's own file: every field required. */
    static QFormerConfig fromOwn(Path file, JsonNode n) {
        Fields f = new Fields(file, n, "");
        return new QFormerConfig(f.integer("hidden_size"), f.integer("num_hidden_layers"),
                f.integer("num_attention_heads"), f.integer("intermediate_size"), f.integer("cross_attention_frequency"),
                f.integer("encoder_hidden_size"), f.integer("num_query_tokens"), f.number("layer_norm_eps"),
                f.number("vision_layer_norm_eps"), f.number("hidden_dropout_prob"),
                f.number("attention_probs_dropout_prob"));
    }

    /** Writes VLAdapt's own file (atomically); field names follow HF's qformer_config where there is one. */
    public static void write(QFormerConfig c, Path json) throws IOException {
        ObjectNode j = JSON.createObjectNode();
        j.put("model_type", MODEL_TYPE);
        j.put("hidden_size", c.hiddenSize());
        j.put("num_hidden_layers", c.numLayers());
        j.put("num_attention_heads", c.numHeads());
        j.put("intermediate_size", c.intermediateSize());
        j.put("cross_attention_frequency", c.crossAttentionFrequency());
        j.put("encoder_hidden_size", c.encoderHiddenSize());
        j.put("num_query_tokens", c.numQueryTokens());
        j.put("layer_norm_eps", c.layerNormEps());
        j.put("vision_layer_norm_eps", c.visionLayerNormEps());
        j.put("hidden_dropout_prob", c.hiddenDropout());
        j.put("attention_probs_dropout_prob", c.attentionDropout());
        AtomicFiles.writeString(json, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(j));
    }

    /** Typed fields with messages that name the file and the key; absent or null keys take the default. */
    private record Fields(Path file, JsonNode node, String prefix) {
        int integer(String key) {
            return (int) value(key, true, null);
        }

        int integer(String key, int fallback) {
            return (int) value(key, true, (double) fallback);
        }

        double number(String key) {
            return value(key, false, null);
        }

        double number(String key, double fallback) {
            return value(key, false, fallback);
        }

        private double value(String key, boolean integral, Double fallback) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) {
                if (fallback == null) throw new FormatException(file + ": required field '" + prefix + key + "' is missing");
                return fallback;
            }
            if (integral ? !v.canConvertToInt() || !v.isIntegralNumber() : !v.isNumber()) {
                throw new FormatException(file + ": field '" + prefix + key + "' is not " + (integral ? "an integer" : "a number")
                        + ": " + v);
            }
            return integral ? v.asInt() : v.asDouble();
        }
    }
}
