package io.vladapt.io;

import io.vladapt.nn.ClipVisionConfig;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.Params;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Loads a CLIP vision tower from an HF folder (CLIPVisionModel or a full CLIPModel, whose text tower
 * is ignored) or from an OpenAI-format state dict ({@code visual.conv1.weight}, ...; a torch.save'd
 * state_dict, not a TorchScript archive), whose config is read off the tensor shapes.
 */
public final class ClipLoader {
    private static final String P = "vision_model.";

    private ClipLoader() {}

    /** An HF folder, or an OpenAI-format file with OpenAI's head count (width / 64). */
    public static ClipVisionModel load(Path path, ScalarType dtype) {
        return load(path, dtype, 0);
    }

    /** As {@link #load(Path, ScalarType)}; {@code heads} > 0 overrides the head count of an OpenAI-format file. */
    public static ClipVisionModel load(Path path, ScalarType dtype, int heads) {
        return load(path, new LlamaLoader.Placement(dtype, "cpu"), heads);
    }

    /** On {@code device} ("cpu", "cuda:0"), each tensor converted as it is read. */
    public static ClipVisionModel load(Path path, ScalarType dtype, String device, int heads) {
        return load(path, dtype, device, heads, null);
    }

    /**
     * As {@link #load(Path, ScalarType, String, int)}, with the blocks' projections (q/k/v/out_proj,
     * fc1/fc2) quantised as they are read ({@code quantize}), or read quantised from a compressed-tensors
     * folder (whose scheme {@code quantize}, if given, must match). Quantised towers run on the CPU.
     */
    public static ClipVisionModel load(Path path, ScalarType dtype, String device, int heads, io.vladapt.quant.QuantScheme quantize) {
        ProjectionQuant quant = ProjectionQuant.of(Files.isDirectory(path) ? path.resolve("config.json") : null, quantize, device);
        return load(path, new LlamaLoader.Placement(dtype, device), heads, quant);
    }

    private static ClipVisionModel load(Path path, LlamaLoader.Placement dtype, int heads) {
        return load(path, dtype, heads, ProjectionQuant.NONE);
    }

    private static ClipVisionModel load(Path path, LlamaLoader.Placement dtype, int heads, ProjectionQuant quant) {
        if (Files.isDirectory(path)) {
            ClipVisionConfig c = ModelConfigs.clipVisionFromHf(path.resolve("config.json"));
            try (TensorSource src = LlamaLoader.hfWeights(path)) {
                // transformers 4 and hub CLIPModel files say vision_model.*; transformers 5's CLIPVisionModel does not
                boolean prefixed = src.has(P + "embeddings.class_embedding") || src.has(P + "pre_layrnorm.weight");
                return build(c, dtype, src, n -> prefixed ? n : n.substring(P.length()), (n, t) -> t, quant);
            }
        }
        try (TorchCheckpoint ck = TorchCheckpoint.open(path); TensorSource src = ck.stateDict()) {
            return loadOpenAi(src, dtype, heads, quant);
        }
    }

    /**
     * OpenAI CLIP naming, as CLIP's full state dict ({@code visual.conv1.weight}, ...) or as the vision
     * tower alone ({@code conv1.weight}, ...: LAVIS's clip_vit_L.pth, which BLIP-2 and VPGTrans load).
     * The config comes from the shapes (heads = width / 64 unless given).
     */
    static ClipVisionModel loadOpenAi(TensorSource src, ScalarType dtype, int heads) {
        return loadOpenAi(src, new LlamaLoader.Placement(dtype, "cpu"), heads, ProjectionQuant.NONE);
    }

    private static ClipVisionModel loadOpenAi(TensorSource src, LlamaLoader.Placement dtype, int heads, ProjectionQuant quant) {
        String v = openAiPrefix(src);
        return build(openAiConfig(src, heads), dtype, src, n -> v + openAiName(n).substring("visual.".length()), ClipLoader::splitQkv, quant);
    }

    /** The config of a tower without loading its weights (for the memory check). */
    public static ClipVisionConfig config(Path path, int heads) {
        if (Files.isDirectory(path)) return ModelConfigs.clipVisionFromHf(path.resolve("config.json"));
        try (TorchCheckpoint ck = TorchCheckpoint.open(path); TensorSource src = ck.stateDict()) {
            return openAiConfig(src, heads);
        }
    }

    /** "visual." for CLIP's full state dict, "" for the vision tower alone. */
    private static String openAiPrefix(TensorSource src) {
        String v = src.has("visual.conv1.weight") ? "visual." : src.has("conv1.weight") ? "" : null;
        if (v == null) {
            throw new FormatException(src.describe() + ": no visual.conv1.weight or conv1.weight: not an OpenAI CLIP state dict");
        }
        return v;
    }

    private static ClipVisionConfig openAiConfig(TensorSource src, int heads) {
        String v = openAiPrefix(src);
        long[] conv = src.info(v + "conv1.weight").shape();                    // (width, 3, patch, patch)
        long positions = src.info(v + "positional_embedding").shape()[0];
        int layers = 0;
        while (src.has(v + "transformer.resblocks." + layers + ".ln_1.weight")) layers++;
        int width = (int) conv[0], patch = (int) conv[2];
        int side = (int) Math.round(Math.sqrt(positions - 1));
        int h = heads > 0 ? heads : width / 64;
        if (h < 1 || width % h != 0) {
            throw new FormatException(src.describe() + ": width " + width + " does not split into " + h
                    + " heads; pass the head count explicitly");
        }
        int mlp = (int) src.info(v + "transformer.resblocks.0.mlp.c_fc.weight").shape()[0];
        return new ClipVisionConfig(width, mlp, layers, h, side * patch, patch, (int) conv[1], "quick_gelu", 1e-5);
    }

    /** HF name -> OpenAI name; q/k/v come from slices of in_proj (see splitQkv). */
    static String openAiName(String hf) {
        String rest = hf.substring(P.length());
        switch (rest) {
            case "embeddings.patch_embedding.weight": return "visual.conv1.weight";
            case "embeddings.class_embedding": return "visual.class_embedding";
            case "embeddings.position_embedding.weight": return "visual.positional_embedding";
            case "pre_layrnorm.weight": return "visual.ln_pre.weight";
            case "pre_layrnorm.bias": return "visual.ln_pre.bias";
            case "post_layernorm.weight": return "visual.ln_post.weight";
            case "post_layernorm.bias": return "visual.ln_post.bias";
            default: break;
        }
        String[] p = rest.split("\\.");                   // encoder.layers.N.<module>.<param>
        String block = "visual.transformer.resblocks." + p[2] + ".";
        String tail = rest.substring(("encoder.layers." + p[2] + ".").length());
        switch (tail) {
            case "layer_norm1.weight": return block + "ln_1.weight";
            case "layer_norm1.bias": return block + "ln_1.bias";
            case "layer_norm2.weight": return block + "ln_2.weight";
            case "layer_norm2.bias": return block + "ln_2.bias";
            case "mlp.fc1.weight": return block + "mlp.c_fc.weight";
            case "mlp.fc1.bias": return block + "mlp.c_fc.bias";
            case "mlp.fc2.weight": return block + "mlp.c_proj.weight";
            case "mlp.fc2.bias": return block + "mlp.c_proj.bias";
            case "self_attn.out_proj.weight": return block + "attn.out_proj.weight";
            case "self_attn.out_proj.bias": return block + "attn.out_proj.bias";
            case "self_attn.q_proj.weight": case "self_attn.k_proj.weight": case "self_attn.v_proj.weight":
                return block + "attn.in_proj_weight";
            case "self_attn.q_proj.bias": case "self_attn.k_proj.bias": case "self_attn.v_proj.bias":
                return block + "attn.in_proj_bias";
            default: throw new IllegalArgumentException("no OpenAI name for " + hf);
        }
    }

    /** in_proj stacks q, k, v along dim 0: take this projection's third. */
    private static Tensor splitQkv(String hf, Tensor t) {
        int which = hf.contains("q_proj.") ? 0 : hf.contains("k_proj.") ? 1 : hf.contains("v_proj.") ? 2 : -1;
        if (which < 0 || t.size(0) % 3 != 0) return t;
        long third = t.size(0) / 3;
        return t.narrow(0, which * third, third);
    }

    private static ClipVisionModel build(ClipVisionConfig c, LlamaLoader.Placement at, TensorSource src,
                                         LlamaLoader.NameMap names, LlamaLoader.Fix fix, ProjectionQuant quant) {
        Map<String, long[]> want = ClipVisionModel.parameterShapes(c);
        quant.checkShapes(src.describe(), want);
        Params params = new Params();
        try {
            for (Map.Entry<String, long[]> e : want.entrySet()) {
                String file = names.fileName(e.getKey());
                if (!quant.present(src, e.getKey(), file)) throw new FormatException(src.describe() + ": missing tensor '" + file + "'");
                if (quant.loadsQuantized(src, e.getKey(), file)) continue;      // second pass
                try (PointerScope scope = new PointerScope()) {
                    Tensor t = fix.apply(e.getKey(), src.load(file));
                    long[] got = io.vladapt.ext.OpCheck.shape(t);
                    if (!Arrays.equals(got, e.getValue())) {
                        throw new FormatException(src.describe() + ": tensor '" + file + "' has shape " + Arrays.toString(got)
                                + " but the config implies " + Arrays.toString(e.getValue()));
                    }
                    params.put(e.getKey(), at.apply(t));
                }
            }
            Map<String, io.vladapt.nn.Projection> layers = quant.load(src, want, names::fileName, fix::apply, params,
                    new java.util.HashSet<>());
            return new ClipVisionModel(c, params, layers, quant.active() ? quant.scheme().toString() : null);
        } catch (RuntimeException ex) {
            params.close();
            throw ex;
        }
    }
}
