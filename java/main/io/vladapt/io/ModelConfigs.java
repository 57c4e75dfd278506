package io.vladapt.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vladapt.nn.ClipVisionConfig;
import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.LlamaConfig.RopeScaling;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** HF config.json and Meta params.json into model configs; missing or odd fields are named. */
public final class ModelConfigs {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelConfigs() {}

    /** A JSON object file; FormatException naming the file if it is unreadable or not an object. */
    public static JsonNode readJson(Path p) {
        try {
            JsonNode n = JSON.readTree(Files.readString(p));
            if (n == null || !n.isObject()) throw new FormatException(p + ": not a JSON object");
            return n;
        } catch (IOException e) {
            throw new FormatException(p + ": cannot read JSON (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
        }
    }

    /**
     * HF LlamaForCausalLM config.json, in both the transformers 4 spelling (rope_theta, rope_scaling,
     * torch_dtype) and the transformers 5 one (rope_parameters, dtype).
     */
    public static LlamaConfig llamaFromHf(Path configJson) {
        JsonNode c = readJson(configJson);
        Fields f = new Fields(configJson, c);
        String type = c.path("model_type").asText("llama");
        if (!type.equals("llama") && !type.equals("mistral")) {
            throw new FormatException(configJson + ": model_type '" + type + "' is not a LLaMA-family decoder");
        }
        int hidden = f.integer("hidden_size"), heads = f.integer("num_attention_heads");
        int kv = c.has("num_key_value_heads") && !c.get("num_key_value_heads").isNull()
                ? f.integer("num_key_value_heads") : heads;
        int headDim = c.hasNonNull("head_dim") ? f.integer("head_dim") : hidden / heads;
        String act = c.path("hidden_act").asText("silu");
        if (!act.equals("silu")) throw new FormatException(configJson + ": hidden_act '" + act + "' (LLaMA uses silu)");
        JsonNode rope = c.hasNonNull("rope_parameters") ? c.get("rope_parameters") : c.get("rope_scaling");
        double theta = c.hasNonNull("rope_theta") ? c.get("rope_theta").asDouble()
                : rope != null && rope.hasNonNull("rope_theta") ? rope.get("rope_theta").asDouble() : 10000.0;
        int maxPos = c.path("max_position_embeddings").asInt(2048);
        String dtype = c.hasNonNull("dtype") ? c.get("dtype").asText() : c.path("torch_dtype").asText("float32");
        return new LlamaConfig(f.integer("vocab_size"), hidden, f.integer("intermediate_size"),
                f.integer("num_hidden_layers"), heads, kv, headDim, c.path("rms_norm_eps").asDouble(1e-6), theta,
                ropeScaling(configJson, rope, maxPos), maxPos, c.path("tie_word_embeddings").asBoolean(false),
                c.path("attention_bias").asBoolean(false), c.path("bos_token_id").asInt(1), ids(c.get("eos_token_id"), 2),
                c.hasNonNull("pad_token_id") ? c.get("pad_token_id").asInt() : -1, dtype);
    }

    private static RopeScaling ropeScaling(Path p, JsonNode r, int maxPos) {
        if (r == null || r.isNull()) return null;
        String type = r.hasNonNull("rope_type") ? r.get("rope_type").asText() : r.path("type").asText("default");
        switch (type) {
            case "default":
                return null;
            case "linear":
                return new RopeScaling("linear", num(p, r, "factor"), 0, 0, maxPos);
            case "llama3":
                return new RopeScaling("llama3", num(p, r, "factor"), num(p, r, "low_freq_factor"),
                        num(p, r, "high_freq_factor"), (int) num(p, r, "original_max_position_embeddings"));
            default:
                throw new FormatException(p + ": rope scaling type '" + type + "' is not supported (default, linear, llama3)");
        }
    }

    private static double num(Path p, JsonNode r, String key) {
        if (!r.hasNonNull(key) || !r.get(key).isNumber()) throw new FormatException(p + ": rope scaling has no number '" + key + "'");
        return r.get(key).asDouble();
    }

    private static List<Integer> ids(JsonNode n, int fallback) {
        List<Integer> out = new ArrayList<>();
        if (n == null || n.isNull()) out.add(fallback);
        else if (n.isArray()) n.forEach(x -> out.add(x.asInt()));
        else out.add(n.asInt());
        return out;
    }

    /**
     * Meta's params.json. Meta's files do not state the FFN width or the vocabulary (LLaMA 1/2 write
     * vocab_size -1): the FFN width follows Meta's rule, and a vocabulary of -1 is taken from
     * {@code vocabFromWeights} (the embedding table's rows). Token ids come from the tokenizer.
     */
    public static LlamaConfig llamaFromMeta(Path paramsJson, int vocabFromWeights, int bos, List<Integer> eos) {
        JsonNode c = readJson(paramsJson);
        Fields f = new Fields(paramsJson, c);
        int dim = f.integer("dim"), heads = f.integer("n_heads");
        int kv = c.hasNonNull("n_kv_heads") ? f.integer("n_kv_heads") : heads;
        int multipleOf = c.path("multiple_of").asInt(256);
        int hidden = (int) (2.0 * 4 * dim / 3);
        if (c.hasNonNull("ffn_dim_multiplier")) hidden = (int) (c.get("ffn_dim_multiplier").asDouble() * hidden);
        hidden = multipleOf * ((hidden + multipleOf - 1) / multipleOf);
        int vocab = c.path("vocab_size").asInt(-1);
        if (vocab <= 0) vocab = vocabFromWeights;
        // use_scaled_rope: LLaMA 3.1's constants, fixed in Meta's reference code
        RopeScaling scaling = c.path("use_scaled_rope").asBoolean(false) ? new RopeScaling("llama3", 8, 1, 4, 8192) : null;
        int maxPos = c.path("max_seq_len").asInt(scaling != null ? 131072 : 4096);
        return new LlamaConfig(vocab, dim, hidden, f.integer("n_layers"), heads, kv, dim / heads,
                c.path("norm_eps").asDouble(1e-5), c.path("rope_theta").asDouble(10000.0), scaling, maxPos, false, false,
                bos, eos, -1, "bfloat16");
    }

    /** CLIPVisionModel's config.json, or a full CLIPModel config (its vision_config). */
    public static ClipVisionConfig clipVisionFromHf(Path configJson) {
        JsonNode c = readJson(configJson);
        if (c.has("vision_config")) c = c.get("vision_config");
        Fields f = new Fields(configJson, c);
        return new ClipVisionConfig(f.integer("hidden_size"), f.integer("intermediate_size"),
                f.integer("num_hidden_layers"), f.integer("num_attention_heads"), f.integer("image_size"),
                f.integer("patch_size"), c.path("num_channels").asInt(3), c.path("hidden_act").asText("quick_gelu"),
                c.path("layer_norm_eps").asDouble(1e-5));
    }

    /** Writes an HF config.json for a LLaMA config (readable by transformers and by {@link #llamaFromHf}). */
    public static void writeLlamaHf(LlamaConfig c, Path configJson) throws IOException {
        com.fasterxml.jackson.databind.node.ObjectNode j = JSON.createObjectNode();
        j.putArray("architectures").add("LlamaForCausalLM");
        j.put("model_type", "llama");
        j.put("vocab_size", c.vocabSize());
        j.put("hidden_size", c.hiddenSize());
        j.put("intermediate_size", c.intermediateSize());
        j.put("num_hidden_layers", c.numLayers());
        j.put("num_attention_heads", c.numHeads());
        j.put("num_key_value_heads", c.numKvHeads());
        j.put("head_dim", c.headDim());
        j.put("hidden_act", "silu");
        j.put("rms_norm_eps", c.rmsNormEps());
        j.put("rope_theta", c.ropeTheta());
        j.put("max_position_embeddings", c.maxPositions());
        j.put("tie_word_embeddings", c.tieWordEmbeddings());
        j.put("attention_bias", c.attentionBias());
        j.put("bos_token_id", c.bosTokenId());
        if (c.eosTokenIds().size() == 1) j.put("eos_token_id", c.eosTokenIds().get(0));
        else c.eosTokenIds().forEach(j.putArray("eos_token_id")::add);
        if (c.padTokenId() >= 0) j.put("pad_token_id", c.padTokenId());
        j.put("torch_dtype", c.dtype());
        AtomicFiles.writeString(configJson, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(j));
    }

    /** Writes an HF CLIPVisionModel config.json. */
    public static void writeClipVisionHf(ClipVisionConfig c, Path configJson) throws IOException {
        com.fasterxml.jackson.databind.node.ObjectNode j = JSON.createObjectNode();
        j.putArray("architectures").add("CLIPVisionModel");
        j.put("model_type", "clip_vision_model");
        j.put("hidden_size", c.hiddenSize());
        j.put("intermediate_size", c.intermediateSize());
        j.put("num_hidden_layers", c.numLayers());
        j.put("num_attention_heads", c.numHeads());
        j.put("image_size", c.imageSize());
        j.put("patch_size", c.patchSize());
        j.put("num_channels", c.numChannels());
        j.put("hidden_act", c.hiddenAct());
        j.put("layer_norm_eps", c.layerNormEps());
        AtomicFiles.writeString(configJson, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(j));
    }

    /** Required integer fields with messages that name the file and the key. */
    private record Fields(Path path, JsonNode node) {
        int integer(String key) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) throw new FormatException(path + ": required field '" + key + "' is missing");
            if (!v.canConvertToInt()) throw new FormatException(path + ": field '" + key + "' is not an integer: " + v);
            return v.asInt();
        }
    }
}
