package io.vladapt.io;

import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.Params;
import io.vladapt.quant.QuantScheme;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Loads a LLaMA-family model directory in either layout:
 * <ul>
 *   <li>HF: config.json + model.safetensors, a sharded *.safetensors.index.json set, or
 *       pytorch_model.bin;</li>
 *   <li>Meta: params.json + consolidated.NN.pth (+ tokenizer.model for the special ids); q/k weights
 *       are permuted into HF's rotate-half layout so both layouts give the same model.</li>
 * </ul>
 * Every tensor is checked against the shape the config implies before it is kept.
 */
public final class LlamaLoader {
    private LlamaLoader() {}

    public enum Layout { HF, META }

    public static Layout detect(Path dir) {
        if (Files.isRegularFile(dir.resolve("config.json"))) return Layout.HF;
        if (Files.isRegularFile(dir.resolve("params.json")) && !MetaCheckpoint.shardFiles(dir).isEmpty()) return Layout.META;
        throw new FormatException(dir + ": neither an HF model folder (config.json + weights) nor a Meta one "
                + "(params.json + consolidated.NN.pth)");
    }

    /** Weights in {@code dtype} on the CPU. */
    public static LlamaModel load(Path dir, ScalarType dtype) {
        return load(dir, dtype, "cpu");
    }

    /** Weights in {@code dtype} on {@code device} ("cpu", "cuda:0"), converted tensor by tensor as they are read. */
    public static LlamaModel load(Path dir, ScalarType dtype, String device) {
        return load(dir, dtype, device, null);
    }

    /**
     * As {@link #load(Path, ScalarType, String)}, with the frozen projections (q/k/v/o, gate/up/down)
     * quantised: {@code quantize} quantises a dense checkpoint as it is read (one dense weight in memory
     * at a time); a compressed-tensors folder (config.json with quantization_config) loads quantised as
     * its config says, and {@code quantize}, if given, must name the same scheme. Embeddings, norms and the
     * LM head stay dense in {@code dtype}; quantised models run on the CPU.
     *
     * @param quantize the scheme, or null (dense, unless the folder is pre-quantised)
     */
    public static LlamaModel load(Path dir, ScalarType dtype, String device, QuantScheme quantize) {
        Placement at = new Placement(dtype, device);
        if (detect(dir) == Layout.HF) return loadHf(dir, at, ProjectionQuant.of(dir.resolve("config.json"), quantize, device));
        return loadMeta(dir, at, ProjectionQuant.of(null, quantize, device));
    }

    /** The scheme a folder's config.json names (a pre-quantised compressed-tensors checkpoint), or null. */
    public static QuantScheme storedQuantization(Path dir) {
        if (!Files.isDirectory(dir)) return null;
        return ProjectionQuant.of(dir.resolve("config.json"), null, "cpu").stored();
    }

    public static LlamaConfig config(Path dir) {
        if (detect(dir) == Layout.HF) return ModelConfigs.llamaFromHf(dir.resolve("config.json"));
        try (MetaCheckpoint ckpt = MetaCheckpoint.open(dir)) {
            return metaConfig(dir, ckpt);
        }
    }

    private static LlamaModel loadHf(Path dir, Placement dtype, ProjectionQuant quant) {
        LlamaConfig c = ModelConfigs.llamaFromHf(dir.resolve("config.json"));
        try (TensorSource src = hfWeights(dir)) {
            return build(c, dtype, src, name -> name, (name, t) -> t, quant);
        }
    }

    /** The weight files of an HF folder, whichever of the usual names they have. */
    public static TensorSource hfWeights(Path dir) {
        for (String index : List.of("model.safetensors.index.json", "pytorch_model.bin.index.json")) {
            if (Files.isRegularFile(dir.resolve(index))) return ShardedSource.open(dir.resolve(index));
        }
        if (Files.isRegularFile(dir.resolve("model.safetensors"))) return SafetensorsFile.open(dir.resolve("model.safetensors"));
        if (Files.isRegularFile(dir.resolve("pytorch_model.bin"))) {
            return TorchCheckpoint.open(dir.resolve("pytorch_model.bin")).stateDict();
        }
        throw new FormatException(dir + ": no model.safetensors, *.safetensors.index.json or pytorch_model.bin");
    }

    private static LlamaConfig metaConfig(Path dir, MetaCheckpoint ckpt) {
        int vocab = (int) ckpt.info("tok_embeddings.weight").shape()[0];
        int bos = 1;
        List<Integer> eos = List.of(2);
        Path sp = dir.resolve("tokenizer.model");
        if (Files.isRegularFile(sp)) {
            SentencePieceTokenizer tok = SentencePieceTokenizer.load(sp);
            bos = tok.bosId();
            eos = List.of(tok.eosId());
        }
        return ModelConfigs.llamaFromMeta(dir.resolve("params.json"), vocab, bos, eos);
    }

    private static LlamaModel loadMeta(Path dir, Placement dtype, ProjectionQuant quant) {
        try (MetaCheckpoint ckpt = MetaCheckpoint.open(dir)) {
            LlamaConfig c = metaConfig(dir, ckpt);
            int hd = c.headDim();
            return build(c, dtype, ckpt, LlamaLoader::metaName, (name, t) -> {
                if (name.endsWith("self_attn.q_proj.weight")) return metaToHfRotary(t, c.numHeads(), hd);
                if (name.endsWith("self_attn.k_proj.weight")) return metaToHfRotary(t, c.numKvHeads(), hd);
                return t;
            }, quant);
        }
    }

    /**
     * Meta rotates interleaved pairs (x0, x1), (x2, x3), ...; HF rotates halves. For each head, HF's
     * rows are Meta's even rows then odd rows: w.view(heads, hd/2, 2, in).transpose(1, 2).
     */
    static Tensor metaToHfRotary(Tensor w, int heads, int hd) {
        long in = w.size(1);
        return w.view(heads, hd / 2, 2, in).transpose(1, 2).reshape(heads * (long) hd, in);
    }

    /** HF name -> Meta name. */
    static String metaName(String hf) {
        if (hf.equals("model.embed_tokens.weight")) return "tok_embeddings.weight";
        if (hf.equals("model.norm.weight")) return "norm.weight";
        if (hf.equals("lm_head.weight")) return "output.weight";
        String[] p = hf.split("\\.");                 // model.layers.N.<module>...
        String layer = "layers." + p[2] + ".";
        switch (hf.substring(("model.layers." + p[2] + ".").length())) {
            case "self_attn.q_proj.weight": return layer + "attention.wq.weight";
            case "self_attn.k_proj.weight": return layer + "attention.wk.weight";
            case "self_attn.v_proj.weight": return layer + "attention.wv.weight";
            case "self_attn.o_proj.weight": return layer + "attention.wo.weight";
            case "mlp.gate_proj.weight": return layer + "feed_forward.w1.weight";
            case "mlp.down_proj.weight": return layer + "feed_forward.w2.weight";
            case "mlp.up_proj.weight": return layer + "feed_forward.w3.weight";
            case "input_layernorm.weight": return layer + "attention_norm.weight";
            case "post_attention_layernorm.weight": return layer + "ffn_norm.weight";
            default: throw new IllegalArgumentException("no Meta name for " + hf);
        }
    }

    /** The dtype and device tensors are converted to as they are read. */
    record Placement(ScalarType dtype, String device) {
        Tensor apply(Tensor t) {
            Tensor c = t.to(dtype).contiguous();
            return device == null || device.equals("cpu") ? c : c.to(io.vladapt.ext.Devices.device(device), dtype);
        }
    }

    @FunctionalInterface
    interface NameMap {
        /** Name in the file for an HF name, or null if absent. */
        String fileName(String hf);
    }

    @FunctionalInterface
    interface Fix {
        Tensor apply(String hfName, Tensor t);
    }

    private static LlamaModel build(LlamaConfig c, Placement at, TensorSource src, NameMap names, Fix fix, ProjectionQuant quant) {
        Map<String, long[]> want = LlamaModel.parameterShapes(c);
        List<String> missing = new ArrayList<>();
        for (String n : want.keySet()) {
            String f = names.fileName(n);
            if (!quant.present(src, n, f)) missing.add(f == null ? n : f);
        }
        if (!missing.isEmpty()) {
            throw new FormatException(src.describe() + ": missing tensor" + (missing.size() > 1 ? "s " : " ")
                    + String.join(", ", missing.subList(0, Math.min(5, missing.size())))
                    + (missing.size() > 5 ? " and " + (missing.size() - 5) + " more" : ""));
        }
        quant.checkShapes(src.describe(), want);
        Params params = new Params();
        Set<String> consumed = new java.util.HashSet<>();
        try {
            for (Map.Entry<String, long[]> e : want.entrySet()) {
                String file = names.fileName(e.getKey());
                if (quant.loadsQuantized(src, e.getKey(), file)) continue;      // second pass
                TensorInfo info = src.info(file);
                long[] shape = info.shape();
                if (!java.util.Arrays.equals(shape, e.getValue())) {
                    throw new FormatException(src.describe() + ": tensor '" + file + "' has shape " + info.shapeString()
                            + " but the config implies " + java.util.Arrays.toString(e.getValue()));
                }
                try (PointerScope scope = new PointerScope()) {
                    Tensor t = at.apply(fix.apply(e.getKey(), src.load(file)));
                    params.put(e.getKey(), t);
                }
                consumed.add(file);
            }
            Map<String, io.vladapt.nn.Projection> layers = quant.load(src, want, names::fileName, fix::apply, params, consumed);
            warnUnused(src, consumed);
            return new LlamaModel(c, params, at.dtype(), layers, quant.active() ? quant.scheme().toString() : null);
        } catch (RuntimeException ex) {
            params.close();
            throw ex;
        }
    }

    private static void warnUnused(TensorSource src, Set<String> consumed) {
        Set<String> fileNames = new TreeSet<>(src.names());
        fileNames.removeAll(consumed);
        fileNames.removeIf(n -> n.endsWith("rotary_emb.inv_freq") || n.equals("lm_head.weight") || n.equals("rope.freqs"));
        if (!fileNames.isEmpty()) {
            System.err.println("vladapt: " + src.describe() + ": ignoring " + fileNames.size() + " tensor(s) the model does not use, e.g. "
                    + fileNames.iterator().next());
        }
    }
}
