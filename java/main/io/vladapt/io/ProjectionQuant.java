package io.vladapt.io;

import io.vladapt.ext.Devices;
import io.vladapt.nn.Params;
import io.vladapt.nn.Projection;
import io.vladapt.quant.CompressedTensors;
import io.vladapt.quant.QuantScheme;
import io.vladapt.quant.QuantizedCheckpoint;
import io.vladapt.quant.QuantizedLinear;
import io.vladapt.quant.QuantizedWeight;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * How a loader holds a model's frozen projections (q/k/v/o, gate/up/down, fc1/fc2; never embeddings or
 * the LM head): dense, quantised as they are read ({@code --quantize}), or read already quantised from a
 * compressed-tensors folder whose config.json names the scheme. The loaders read every other tensor first,
 * then the projections one at a time, so the peak is the quantised model plus one dense weight.
 *
 * @param quantize the scheme asked for, or null
 * @param stored   the scheme the folder's config.json names, or null for a dense checkpoint
 */
record ProjectionQuant(QuantScheme quantize, QuantScheme stored) {
    static final ProjectionQuant NONE = new ProjectionQuant(null, null);

    /**
     * @param configJson the model's config.json, or null (Meta layout, OpenAI-format file: always dense)
     * @param asked      the scheme asked for, or null (a pre-quantised folder then loads as it is)
     * @param device     where the model goes: the quantised kernels run on the CPU only
     */
    static ProjectionQuant of(Path configJson, QuantScheme asked, String device) {
        QuantScheme stored = null;
        if (configJson != null && Files.isRegularFile(configJson)) {
            var config = ModelConfigs.readJson(configJson);
            if (config.has(CompressedTensors.CONFIG_KEY)) {
                stored = CompressedTensors.parseConfig(config.get(CompressedTensors.CONFIG_KEY), configJson.toString());
            }
        }
        if (stored != null && asked != null && !stored.equals(asked)) {
            throw new FormatException(configJson + ": the checkpoint is quantised as " + stored + " (" + stored.describe() + ") but --quantize "
                    + asked + " was asked for (scheme mismatch: drop --quantize, or quantise the dense checkpoint)");
        }
        if ((stored != null || asked != null) && device != null && !Devices.isCpu(device)) {
            throw new IllegalArgumentException("quantised weights (" + (stored != null ? stored : asked) + ") run on the CPU only, not on "
                    + device + " (drop --quantize or use --device cpu)");
        }
        return new ProjectionQuant(asked, stored);
    }

    /** The scheme projections end up in, or null for a dense model. */
    QuantScheme scheme() {
        return stored != null ? stored : quantize;
    }

    boolean active() {
        return scheme() != null;
    }

    /** Whether HF-named tensor {@code name} is a projection to hold quantised. */
    boolean targets(String name) {
        return active() && QuantizedCheckpoint.isProjection(name);
    }

    /**
     * Before anything is read: with int4 quantise-at-load every projection's in_features must be a
     * multiple of the group; the first that is not is named in one line.
     */
    void checkShapes(String source, Map<String, long[]> want) {
        if (quantize == null || stored != null || quantize.bits() != 4) return;
        for (Map.Entry<String, long[]> e : want.entrySet()) {
            long[] s = e.getValue();
            if (targets(e.getKey()) && s.length == 2 && s[1] % quantize.group() != 0) {
                throw new IllegalArgumentException(source + ": --quantize " + quantize + " needs every projection's in_features to be a multiple "
                        + "of the group " + quantize.group() + ", but " + e.getKey() + " " + java.util.Arrays.toString(s) + " has "
                        + s[1] + " (use int8, or a group that divides it)");
            }
        }
    }

    /**
     * Reads every projection in {@code want} that {@link #targets} into a {@link QuantizedLinear} owned by the
     * result (its bias, if any, is the one already in {@code params}).
     *
     * @param file     the projection's weight name in the source, for an HF name
     * @param fix      layout fix applied to a dense weight as read (Meta's rotary permutation, OpenAI's in_proj split)
     * @param consumed receives the source names read, for the unused-tensor warning
     */
    Map<String, Projection> load(TensorSource src, Map<String, long[]> want, java.util.function.Function<String, String> file,
                                 java.util.function.BiFunction<String, Tensor, Tensor> fix, Params params, Set<String> consumed) {
        Map<String, Projection> layers = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, long[]> e : want.entrySet()) {
                String name = e.getKey();
                if (!targets(name)) continue;
                String module = CompressedTensors.prefix(name), f = file.apply(name);
                long[] shape = e.getValue();
                try (PointerScope scope = new PointerScope()) {
                    QuantizedWeight w;
                    String filePrefix = stored != null ? CompressedTensors.prefix(f) : null;
                    if (stored != null && CompressedTensors.isQuantized(src, filePrefix)) {
                        w = CompressedTensors.read(src, filePrefix, stored);
                        if (w.outFeatures() != shape[0] || w.inFeatures() != shape[1]) {
                            throw new FormatException(src.describe() + ": " + filePrefix + " is quantised as [" + w.outFeatures() + ", "
                                    + w.inFeatures() + "] but the config implies " + java.util.Arrays.toString(shape));
                        }
                        for (String part : List.of(".weight", ".weight_packed", ".weight_scale", ".weight_shape", ".weight_zero_point")) {
                            consumed.add(filePrefix + part);
                        }
                    } else if (stored != null) {
                        continue;                                      // left dense by the writer (its ignore list): loaded dense
                    } else {
                        Tensor dense = fix.apply(name, src.load(f));
                        long[] got = io.vladapt.ext.OpCheck.shape(dense);
                        if (!java.util.Arrays.equals(got, shape)) {
                            throw new FormatException(src.describe() + ": tensor '" + f + "' has shape " + java.util.Arrays.toString(got)
                                    + " but the config implies " + java.util.Arrays.toString(shape));
                        }
                        if (io.vladapt.ext.OpCheck.dtype(dense) == ScalarType.Double) dense = dense.to(ScalarType.Float);
                        w = QuantizedWeight.quantize(name, dense.contiguous(), quantize);
                        consumed.add(f);
                    }
                    String bias = module + ".bias";
                    layers.put(module, QuantizedLinear.owning(w, params.has(bias) ? params.get(bias) : null));
                }
            }
            return layers;
        } catch (RuntimeException ex) {
            layers.values().forEach(Projection::close);
            throw ex;
        }
    }

    /** Whether {@link #load} takes HF-named tensor {@code name} (the loaders then skip it in the dense pass). */
    boolean loadsQuantized(TensorSource src, String name, String file) {
        if (!targets(name)) return false;
        return stored == null || CompressedTensors.isQuantized(src, CompressedTensors.prefix(file));
    }

    /** A pre-quantised folder's projections, for the missing-tensor check: present when their weight_scale is. */
    boolean present(TensorSource src, String name, String file) {
        return file != null && (src.has(file) || stored != null && targets(name) && CompressedTensors.isQuantized(src, CompressedTensors.prefix(file)));
    }
}
