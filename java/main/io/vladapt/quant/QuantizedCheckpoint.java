package io.vladapt.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.ext.OpCheck;
import io.vladapt.ext.Scopes;
import io.vladapt.io.AtomicFiles;
import io.vladapt.io.DType;
import io.vladapt.io.FormatException;
import io.vladapt.io.LlamaLoader;
import io.vladapt.io.ModelConfigs;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.io.TensorInfo;
import io.vladapt.io.TensorSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A model's tensors with its frozen projections quantised under one scheme, and the rest dense.
 * Made by quantising a dense checkpoint as it loads ({@link #quantize}: one dense weight in memory at a
 * time), or read from a pre-quantised folder ({@link #load}); written as a compressed-tensors folder
 * ({@link #save}: model.safetensors + config.json with quantization_config).
 */
public final class QuantizedCheckpoint {
    /** Linear projections of LLaMA-family decoders and CLIP vision towers (HF names). */
    private static final Pattern PROJECTIONS = Pattern.compile(
            ".*\\.(q_proj|k_proj|v_proj|o_proj|out_proj|gate_proj|up_proj|down_proj|fc1|fc2)\\.weight");

    private final QuantScheme scheme;
    private final Map<String, QuantizedWeight> quantized;
    private final Map<String, Tensor> dense;

    public QuantizedCheckpoint(QuantScheme scheme, Map<String, QuantizedWeight> quantized, Map<String, Tensor> dense) {
        this.scheme = scheme;
        this.quantized = Collections.unmodifiableMap(new LinkedHashMap<>(quantized));
        this.dense = Collections.unmodifiableMap(new LinkedHashMap<>(dense));
        for (QuantizedWeight w : quantized.values()) {
            if (!w.scheme().equals(scheme)) {
                throw new IllegalArgumentException(w.name() + " is " + w.scheme().describe() + " in a " + scheme.describe() + " checkpoint");
            }
        }
    }

    /**
     * A loaded model's tensors as a checkpoint (shared, not copied): its dense params and its quantised
     * layers (a model loaded with a quantisation scheme), to {@link #save} pre-quantised.
     */
    public static QuantizedCheckpoint of(Map<String, Tensor> params, Map<String, ? extends io.vladapt.nn.Projection> layers, String scheme) {
        if (layers.isEmpty() || scheme == null) throw new IllegalArgumentException("the model is not quantised: nothing to save as a quantised checkpoint");
        Map<String, QuantizedWeight> q = new LinkedHashMap<>();
        for (Map.Entry<String, ? extends io.vladapt.nn.Projection> e : layers.entrySet()) {
            if (!(e.getValue() instanceof QuantizedLinear l)) throw new IllegalArgumentException(e.getKey() + " is not a quantised layer");
            q.put(e.getKey() + ".weight", l.weight());
        }
        return new QuantizedCheckpoint(QuantScheme.parse(scheme), q, params);
    }

    /** The frozen projections VLAdapt quantises by default: attention and MLP weights, not embeddings or lm_head. */
    public static boolean isProjection(String name) {
        return PROJECTIONS.matcher(name).matches();
    }

    /**
     * Reads every tensor of src; those {@code targets} accepts (2-D float weights) are quantised one at a
     * time and their dense copy freed before the next is read, so the peak is the quantised model plus
     * one dense weight.
     */
    public static QuantizedCheckpoint quantize(TensorSource src, QuantScheme scheme, Predicate<String> targets) {
        Map<String, QuantizedWeight> q = new LinkedHashMap<>();
        Map<String, Tensor> d = new LinkedHashMap<>();
        for (String name : src.names()) {
            TensorInfo info = src.info(name);
            boolean floating = info.dtype() == DType.F32 || info.dtype() == DType.BF16 || info.dtype() == DType.F16
                    || info.dtype() == DType.F64;
            if (!targets.test(name) || info.shape().length != 2 || !floating) {
                d.put(name, src.load(name));
                continue;
            }
            if (scheme.bits() == 4 && info.shape()[1] % scheme.group() != 0) {
                throw new IllegalArgumentException(src.describe() + ": " + name + " " + info.shapeString() + ": group size "
                        + scheme.group() + " does not divide in_features " + info.shape()[1] + " (choose another group)");
            }
            QuantizedWeight w = Scopes.keepOnly(() -> {
                Tensor t = src.load(name);
                return QuantizedWeight.quantize(name, info.dtype() == DType.F64 ? t.to(ScalarType.Float) : t, scheme);
            }, QuantizedWeight::tensors);
            q.put(name, w);
        }
        return new QuantizedCheckpoint(scheme, q, d);
    }

    /** True if dir's config.json names a quantization_config. */
    public static boolean isQuantizedFolder(Path dir) {
        Path cfg = dir.resolve("config.json");
        return Files.isRegularFile(cfg) && ModelConfigs.readJson(cfg).has(CompressedTensors.CONFIG_KEY);
    }

    /**
     * Reads a compressed-tensors folder. {@code expected} (may be null) is the scheme the caller asked
     * for; a different one in the file is a scheme mismatch, reported with both names.
     */
    public static QuantizedCheckpoint load(Path dir, QuantScheme expected) {
        Path cfg = dir.resolve("config.json");
        if (!Files.isRegularFile(cfg)) throw new FormatException(dir + ": no config.json");
        JsonNode config = ModelConfigs.readJson(cfg);
        if (!config.has(CompressedTensors.CONFIG_KEY)) {
            throw new FormatException(cfg + " has no " + CompressedTensors.CONFIG_KEY + ": the checkpoint is not quantised");
        }
        QuantScheme scheme = CompressedTensors.parseConfig(config.get(CompressedTensors.CONFIG_KEY), cfg.toString());
        if (expected != null && !expected.equals(scheme)) {
            throw new FormatException(cfg + ": the checkpoint is quantised as " + scheme.describe() + " (" + scheme + ") but "
                    + expected.describe() + " (" + expected + ") was asked for (scheme mismatch: drop the option or re-quantise "
                    + "from the dense weights)");
        }
        try (TensorSource src = LlamaLoader.hfWeights(dir)) {
            Set<String> parts = new HashSet<>();
            Map<String, QuantizedWeight> q = new LinkedHashMap<>();
            for (String name : src.names()) {
                if (!name.endsWith(".weight_scale")) continue;
                String prefix = name.substring(0, name.length() - ".weight_scale".length());
                QuantizedWeight w = CompressedTensors.read(src, prefix, scheme);
                q.put(prefix + ".weight", w);
                for (String s : List.of(".weight", ".weight_packed", ".weight_scale", ".weight_shape", ".weight_zero_point")) {
                    parts.add(prefix + s);
                }
            }
            Map<String, Tensor> d = new LinkedHashMap<>();
            for (String name : src.names()) if (!parts.contains(name)) d.put(name, src.load(name));
            return new QuantizedCheckpoint(scheme, q, d);
        }
    }

    /**
     * Writes dir/model.safetensors and dir/config.json (baseConfig, may be null, plus quantization_config),
     * each atomically.
     */
    public void save(Path dir, JsonNode baseConfig) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> all = new LinkedHashMap<>(dense);
        for (QuantizedWeight w : quantized.values()) all.putAll(CompressedTensors.tensors(w));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), all, Map.of("format", "pt"));
        List<String> ignore = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : dense.entrySet()) {
            String n = e.getKey();
            if (n.endsWith(".weight") && e.getValue().dim() == 2 && !n.contains("embed")) ignore.add(CompressedTensors.prefix(n));
        }
        ObjectNode config = baseConfig != null && baseConfig.isObject() ? ((ObjectNode) baseConfig).deepCopy()
                : new ObjectMapper().createObjectNode();
        config.set(CompressedTensors.CONFIG_KEY, CompressedTensors.config(scheme, ignore));
        AtomicFiles.writeString(dir.resolve("config.json"), new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(config));
    }

    public QuantScheme scheme() {
        return scheme;
    }

    /** Quantised weights by their dense name ("model.layers.0.self_attn.q_proj.weight"). */
    public Map<String, QuantizedWeight> quantized() {
        return quantized;
    }

    public Map<String, Tensor> dense() {
        return dense;
    }

    /** The quantised weight of a dense name, or null if that tensor is dense. */
    public QuantizedWeight weight(String name) {
        return quantized.get(name);
    }

    /** Bytes in memory: quantised codes, scales and zeros, plus the dense tensors. */
    public long bytes() {
        long b = 0;
        for (QuantizedWeight w : quantized.values()) b += w.bytes();
        for (Tensor t : dense.values()) b += t.numel() * t.element_size();
        return b;
    }

    @Override
    public String toString() {
        return quantized.size() + " quantised (" + scheme.describe() + ") + " + dense.size() + " dense tensors, "
                + String.format("%.2f", bytes() / 1e9) + " GB; e.g. "
                + quantized.values().stream().findFirst().map(w -> w.name() + " " + w.describe()).orElse("-")
                + dense.entrySet().stream().findFirst().map(e -> ", " + e.getKey() + " " + OpCheck.describe(e.getValue())).orElse("");
    }
}
