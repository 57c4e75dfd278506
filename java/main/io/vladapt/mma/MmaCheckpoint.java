package io.vladapt.mma;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.io.AtomicFiles;
import io.vladapt.io.FormatException;
import io.vladapt.io.SafetensorsFile;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.io.TensorSource;
import io.vladapt.io.TorchCheckpoint;
import io.vladapt.nn.Params;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * MMA adapter checkpoints, the convention users know from HF peft: a folder with
 * adapter_model.safetensors (only the trainable tensors, LaVIN's names) and adapter_config.json
 * (everything needed to rebuild their shapes, and the identity of the base models they belong to,
 * checked on load). Also reads LaVIN's released .pth adapter checkpoints (their "model" entry).
 */
public final class MmaCheckpoint {
    public static final String WEIGHTS = "adapter_model.safetensors", CONFIG = "adapter_config.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private MmaCheckpoint() {}

    /** What the adapters were trained on: checked against the models they are loaded into. */
    public record Base(String llm, int llmVocab, int llmLayers, int llmDim, String vit, int vitLayers, int vitDim) {}

    /** Writes both files into dir (each atomically). */
    public static void save(Path dir, MmaAdapters a, Base base) throws IOException {
        Files.createDirectories(dir);
        MmaConfig c = a.config();
        ObjectNode j = JSON.createObjectNode();
        j.put("method", "lavin-mma");
        j.put("llm_layers", c.llmLayers());
        j.put("llm_dim", c.llmDim());
        j.put("vit_layers", c.vitLayers());
        j.put("vit_dim", c.vitDim());
        j.put("rank", c.rank());
        settings(j.putObject("llm_adapter"), c.llmAdapter());
        settings(j.putObject("vit_adapter"), c.vitAdapter());
        j.put("neck_hidden", c.neckHidden());
        j.put("visual_tokens", c.visualTokens());
        j.put("vit_routing_compat", c.vitRoutingCompat());
        j.set("base", JSON.valueToTree(base));
        j.put("trainable_parameters", a.count());
        SafetensorsWriter.write(dir.resolve(WEIGHTS), new LinkedHashMap<>(a.params().asMap()), Map.of("format", "pt"));
        AtomicFiles.writeString(dir.resolve(CONFIG), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(j));
    }

    private static void settings(ObjectNode o, AdapterSettings s) {
        o.put("groups", s.groups());
        o.put("scale", s.scale());
        o.put("temperature", s.temperature());
        o.put("dropout", s.dropout());
    }

    public static MmaConfig config(Path dir) {
        JsonNode j = json(dir.resolve(CONFIG));
        if (!"lavin-mma".equals(j.path("method").asText())) throw new FormatException(dir.resolve(CONFIG) + ": not an MMA adapter config");
        return new MmaConfig(j.path("llm_layers").asInt(), j.path("llm_dim").asInt(), j.path("vit_layers").asInt(),
                j.path("vit_dim").asInt(), j.path("rank").asInt(), settings(j.path("llm_adapter")), settings(j.path("vit_adapter")),
                j.path("neck_hidden").asInt(), j.path("visual_tokens").asInt(), j.path("vit_routing_compat").asBoolean());
    }

    public static Base base(Path dir) {
        try {
            return JSON.treeToValue(json(dir.resolve(CONFIG)).get("base"), Base.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new FormatException(dir.resolve(CONFIG) + ": no readable 'base' entry", e);
        }
    }

    private static AdapterSettings settings(JsonNode o) {
        return new AdapterSettings(o.path("groups").asLong(2), o.path("scale").asDouble(1), o.path("temperature").asDouble(10),
                o.path("dropout").asDouble(0.1));
    }

    private static JsonNode json(Path p) {
        try {
            return JSON.readTree(Files.readString(p));
        } catch (IOException e) {
            throw new FormatException(p + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Loads a saved folder into existing adapters (same config), checking names and shapes. */
    public static void load(Path dir, MmaAdapters into) {
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(WEIGHTS))) {
            copy(f, into, name -> name, t -> t);
        }
    }

    /**
     * LaVIN's released checkpoints: a torch.save'd dict whose "model" entry holds the adapter tensors
     * under LaVIN's names ({@link #lavinName}), conv weights with their trailing kernel dimension of 1,
     * and, when it was trained with DistributedDataParallel (LaVIN's scripts), a "module." prefix.
     */
    public static void loadLavinPth(Path pth, MmaAdapters into) {
        try (TorchCheckpoint ck = TorchCheckpoint.open(pth); TensorSource sd = ck.stateDict("model")) {
            copy(sd, into, name -> sd.has("module." + lavinName(name)) ? "module." + lavinName(name) : lavinName(name),
                    t -> t.dim() == 3 && t.size(2) == 1 ? t.squeeze(2) : t);
        }
    }

    /**
     * LaVIN's parameter name for one of ours: the same, except the visual neck, an AdapterMLP in LaVIN
     * ({@code adapter_proj.conv_A} / {@code conv_B}) where VLAdapt keeps {@code adapter_proj.0} / {@code .2}.
     */
    public static String lavinName(String name) {
        if (name.startsWith("adapter_proj.0.")) return "adapter_proj.conv_A." + name.substring("adapter_proj.0.".length());
        if (name.startsWith("adapter_proj.2.")) return "adapter_proj.conv_B." + name.substring("adapter_proj.2.".length());
        return name;
    }

    private static void copy(TensorSource src, MmaAdapters into, java.util.function.UnaryOperator<String> names,
                             java.util.function.UnaryOperator<Tensor> fix) {
        Params p = into.params();
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : p.asMap().entrySet()) {
                String file = names.apply(e.getKey());
                if (!src.has(file)) throw new FormatException(src.describe() + ": missing adapter tensor '" + file + "'");
                Tensor t = fix.apply(src.load(file));
                long[] want = io.vladapt.ext.OpCheck.shape(e.getValue()), got = io.vladapt.ext.OpCheck.shape(t);
                if (!Arrays.equals(want, got)) {
                    throw new FormatException(src.describe() + ": adapter tensor '" + file + "' has shape " + Arrays.toString(got)
                            + " but the adapter config implies " + Arrays.toString(want));
                }
                e.getValue().copy_(t);
            }
        }
    }

    /** Refuses adapters trained for other base models. */
    public static void checkBase(Base want, MmaModel m, Path where) {
        var l = m.llm().config();
        var v = m.vit().config();
        if (want.llmVocab() != l.vocabSize() || want.llmLayers() != l.numLayers() || want.llmDim() != l.hiddenSize()
                || want.vitLayers() != v.numLayers() || want.vitDim() != v.hiddenSize()) {
            throw new FormatException(where + ": adapters were trained for " + want + ", but the models loaded are an LLM of "
                    + l.numLayers() + " x " + l.hiddenSize() + " (vocab " + l.vocabSize() + ") and a ViT of " + v.numLayers() + " x "
                    + v.hiddenSize());
        }
    }
}
