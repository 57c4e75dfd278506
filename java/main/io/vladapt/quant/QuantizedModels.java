package io.vladapt.quant;

import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.Params;
import io.vladapt.nn.Projection;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Quantises a model already in memory (the loaders quantise as they read, see
 * {@code LlamaLoader.load(dir, dtype, device, scheme)}): the result shares every dense tensor with the
 * original, which stays usable, and owns its quantised projections.
 */
public final class QuantizedModels {
    private QuantizedModels() {}

    /** A LLaMA model whose projections (q/k/v/o, gate/up/down) are quantised from m's weights. */
    public static LlamaModel quantize(LlamaModel m, QuantScheme scheme) {
        Params dense = new Params();
        Map<String, Projection> layers = split(m.params(), scheme, dense);
        return new LlamaModel(m.config(), dense, m.dtype(), layers, scheme.toString());
    }

    /** A CLIP tower whose projections (q/k/v/out_proj, fc1/fc2) are quantised from m's weights. */
    public static ClipVisionModel quantize(ClipVisionModel m, QuantScheme scheme) {
        Params dense = new Params();
        Map<String, Projection> layers = split(m.params(), scheme, dense);
        return new ClipVisionModel(m.config(), dense, layers, scheme.toString());
    }

    private static Map<String, Projection> split(Params params, QuantScheme scheme, Params dense) {
        Map<String, Projection> layers = new LinkedHashMap<>();
        try {
            params.asMap().forEach((name, t) -> {
                if (!QuantizedCheckpoint.isProjection(name) || t.dim() != 2) dense.put(name, t);
            });
            for (Map.Entry<String, Tensor> e : params.asMap().entrySet()) {
                String name = e.getKey();
                if (!QuantizedCheckpoint.isProjection(name) || e.getValue().dim() != 2) continue;
                String module = CompressedTensors.prefix(name), bias = module + ".bias";
                try (PointerScope scope = new PointerScope()) {
                    QuantizedWeight w = QuantizedWeight.quantize(name, e.getValue().detach().contiguous(), scheme);
                    layers.put(module, QuantizedLinear.owning(w, dense.has(bias) ? dense.get(bias) : null));
                }
            }
            return layers;
        } catch (RuntimeException ex) {
            layers.values().forEach(Projection::close);
            dense.close();
            throw ex;
        }
    }
}
