package io.vladapt.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.io.DType;
import io.vladapt.io.FormatException;
import io.vladapt.io.TensorInfo;
import io.vladapt.io.TensorSource;
import io.vladapt.nn.Tensors;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The on-disk layout of quantised weights: Hugging Face compressed-tensors (what llm-compressor writes and
 * transformers and vLLM load), chosen because it documents both of our schemes in one family, names the
 * scheme in config.json, keeps safetensors, and stores codes output-major (a row's inputs contiguous, as
 * the GEMV kernels read them), so loading is a plain read. Per linear module {@code P} (the dense weight
 * was {@code P.weight}):
 * <pre>
 *   int8 per channel, format "int-quantized":
 *     P.weight             I8  (out, in)
 *     P.weight_scale       F32 (out, 1)
 *     P.weight_zero_point  I8  (out, 1)             asymmetric only
 *   int4 groups, format "pack-quantized":
 *     P.weight_packed      I32 (out, in/8)          input 8j+i in bits [4i, 4i+4) of word j, as q + 8
 *     P.weight_scale       F16 (out, in/group)
 *     P.weight_shape       I64 [out, in]
 *     P.weight_zero_point  I32 (ceil(out/8), in/group)  asymmetric only: packed likewise along dim 0
 * </pre>
 * and config.json carries {@code quantization_config} with quant_method "compressed-tensors", the format,
 * and one config group whose "weights" give num_bits, type "int", symmetric, strategy "channel" or
 * "group" and group_size. Scales written by other tools in bf16/f32 are read and converted.
 */
public final class CompressedTensors {
    public static final String CONFIG_KEY = "quantization_config";
    private static final ObjectMapper JSON = new ObjectMapper();

    private CompressedTensors() {}

    /** The quantization_config object for a scheme; {@code ignore} lists modules left dense (e.g. lm_head). */
    public static ObjectNode config(QuantScheme s, Iterable<String> ignore) {
        ObjectNode qc = JSON.createObjectNode();
        qc.put("quant_method", "compressed-tensors");
        qc.put("format", s.bits() == 8 ? "int-quantized" : "pack-quantized");
        qc.put("quantization_status", "compressed");
        ObjectNode group = qc.putObject("config_groups").putObject("group_0");
        group.putArray("targets").add("Linear");
        ObjectNode w = group.putObject("weights");
        w.put("num_bits", s.bits());
        w.put("type", "int");
        w.put("symmetric", s.symmetric());
        w.put("strategy", s.bits() == 8 ? "channel" : "group");
        if (s.bits() == 8) w.putNull("group_size");
        else w.put("group_size", s.group());
        w.put("dynamic", false);
        w.put("observer", "minmax");
        group.putNull("input_activations");
        group.putNull("output_activations");
        var ig = qc.putArray("ignore");
        ignore.forEach(ig::add);
        return qc;
    }

    /** The scheme a quantization_config names; {@code where} is the config file, for messages. */
    public static QuantScheme parseConfig(JsonNode qc, String where) {
        String at = where + ": " + CONFIG_KEY;
        if (qc == null || !qc.isObject()) throw new FormatException(at + " is missing or not an object");
        String method = qc.path("quant_method").asText("");
        if (!method.equals("compressed-tensors")) {
            throw new FormatException(at + ".quant_method is '" + method + "'; VLAdapt reads compressed-tensors checkpoints "
                    + "(formats int-quantized and pack-quantized)");
        }
        String format = qc.path("format").asText("");
        if (!format.equals("pack-quantized") && !format.equals("int-quantized") && !format.equals("naive-quantized")) {
            throw new FormatException(at + ".format is '" + format + "'; VLAdapt reads int-quantized (int8) and pack-quantized (int4)");
        }
        JsonNode groups = qc.get("config_groups");
        if (groups == null || !groups.isObject() || groups.size() == 0) throw new FormatException(at + ".config_groups is missing");
        QuantScheme scheme = null;
        for (var it = groups.fields(); it.hasNext(); ) {
            var e = it.next();
            String gat = at + ".config_groups." + e.getKey();
            JsonNode acts = e.getValue().get("input_activations");
            if (acts != null && !acts.isNull()) {
                throw new FormatException(gat + " quantises activations; VLAdapt reads weight-only schemes");
            }
            QuantScheme s = weights(e.getValue().get("weights"), gat + ".weights");
            if (scheme != null && !scheme.equals(s)) {
                throw new FormatException(at + " mixes schemes (" + scheme + " and " + s + "); VLAdapt reads one scheme per checkpoint");
            }
            scheme = s;
        }
        if ((scheme.bits() == 4) != format.equals("pack-quantized")) {
            throw new FormatException(at + ": format " + format + " does not hold " + scheme.describe()
                    + " (int8 is int-quantized, int4 is pack-quantized)");
        }
        return scheme;
    }

    private static QuantScheme weights(JsonNode w, String at) {
        if (w == null || !w.isObject()) throw new FormatException(at + " is missing");
        String type = w.path("type").asText("");
        if (!type.equals("int")) throw new FormatException(at + ".type is '" + type + "'; VLAdapt reads integer schemes");
        int bits = w.path("num_bits").asInt(-1);
        String strategy = w.path("strategy").asText("");
        boolean sym = w.path("symmetric").asBoolean(true);
        if (bits == 8 && strategy.equals("channel")) return new QuantScheme(8, 0, sym);
        if (bits == 4 && strategy.equals("group")) {
            int g = w.path("group_size").asInt(-1);
            if (g != 32 && g != 64 && g != 128) throw new FormatException(at + ".group_size is " + w.path("group_size") + "; VLAdapt reads 32, 64 or 128");
            return new QuantScheme(4, g, sym);
        }
        throw new FormatException(at + ": num_bits " + bits + " with strategy '" + strategy
                + "' is not read; VLAdapt reads 8 bits per channel and 4 bits per group");
    }

    /** The module prefix of a dense weight name ("m.q_proj.weight" to "m.q_proj"). */
    public static String prefix(String weightName) {
        if (!weightName.endsWith(".weight")) throw new IllegalArgumentException(weightName + " is not a '.weight' tensor name");
        return weightName.substring(0, weightName.length() - ".weight".length());
    }

    /** True if the source holds a quantised weight (of either scheme) for module prefix. */
    public static boolean isQuantized(TensorSource src, String prefix) {
        return src.has(prefix + ".weight_scale");
    }

    /** The tensors to write for one quantised weight, in file order. */
    public static Map<String, Tensor> tensors(QuantizedWeight w) {
        String p = prefix(w.name());
        Map<String, Tensor> out = new LinkedHashMap<>();
        if (w.scheme().bits() == 8) {
            out.put(p + ".weight", w.q());
            out.put(p + ".weight_scale", w.scale().view(w.outFeatures(), 1));
            if (w.zero() != null) out.put(p + ".weight_zero_point", w.zero().view(w.outFeatures(), 1));
        } else {
            out.put(p + ".weight_packed", w.q());
            out.put(p + ".weight_scale", w.scale());
            out.put(p + ".weight_shape", Tensors.longs(w.outFeatures(), w.inFeatures()));
            if (w.zero() != null) out.put(p + ".weight_zero_point", packRows(w.zero()));
        }
        return out;
    }

    /**
     * Reads module {@code prefix}'s quantised weight, checking it against the scheme the config names;
     * FormatException naming the file, tensor and shape otherwise.
     */
    public static QuantizedWeight read(TensorSource src, String prefix, QuantScheme scheme) {
        String name = prefix + ".weight";
        boolean packed = src.has(prefix + ".weight_packed");
        boolean int8 = src.has(name) && src.info(name).dtype() == DType.I8;
        if (!packed && !int8) {
            throw new FormatException(src.describe() + ": " + prefix + " has weight_scale but neither an int8 'weight' nor "
                    + "'weight_packed'");
        }
        if (packed != (scheme.bits() == 4)) {
            throw new FormatException(src.describe() + ": " + prefix + " holds " + (packed ? "int4 (weight_packed)" : "int8 (weight I8)")
                    + " codes but config.json names " + scheme.describe() + " (scheme mismatch)");
        }
        boolean hasZero = src.has(prefix + ".weight_zero_point");
        if (hasZero == scheme.symmetric()) {
            throw new FormatException(src.describe() + ": " + prefix + (hasZero ? " has zero points but the scheme is symmetric"
                    : " has no weight_zero_point but the scheme is asymmetric") + " (scheme mismatch)");
        }
        return packed ? readInt4(src, prefix, scheme) : readInt8(src, prefix, scheme);
    }

    private static QuantizedWeight readInt8(TensorSource src, String prefix, QuantScheme scheme) {
        TensorInfo qi = src.info(prefix + ".weight");
        long[] s = qi.shape();
        if (s.length != 2) throw bad(src, qi, "must be 2-D (out, in)");
        long out = s[0], in = s[1];
        TensorInfo si = src.info(prefix + ".weight_scale");
        checkFloat(src, si);
        if (!(Arrays.equals(si.shape(), new long[] {out, 1}) || Arrays.equals(si.shape(), new long[] {out}))) {
            throw bad(src, si, "must be (" + out + ", 1): one scale per output channel of " + qi.name() + " " + qi.shapeString());
        }
        Tensor rawScale = src.load(si.name());
        Scales.check(src.describe() + ": " + si.name(), rawScale, 1);
        Tensor zero = null;
        if (!scheme.symmetric()) {
            TensorInfo zi = src.info(prefix + ".weight_zero_point");
            if (zi.dtype() != DType.I8 || zi.numel() != out) throw bad(src, zi, "must be I8 (" + out + ", 1)");
            zero = src.load(zi.name()).reshape(out);
        }
        return new QuantizedWeight(prefix + ".weight", scheme, out, in, src.load(qi.name()),
                rawScale.reshape(out).to(ScalarType.Float).contiguous(), zero);
    }

    private static QuantizedWeight readInt4(TensorSource src, String prefix, QuantScheme scheme) {
        TensorInfo shi = src.info(prefix + ".weight_shape");
        if (shi.numel() != 2 || (shi.dtype() != DType.I64 && shi.dtype() != DType.I32)) throw bad(src, shi, "must hold [out, in]");
        long[] dims = Tensors.toLongs(src.load(shi.name()));
        long out = dims[0], in = dims[1];
        if (out <= 0 || in <= 0) throw bad(src, shi, "holds " + Arrays.toString(dims));
        int g = scheme.group();
        if (in % g != 0) {
            throw new FormatException(src.describe() + ": " + prefix + ": group size " + g + " (config.json) does not divide in_features "
                    + in + " (" + shi.name() + ")");
        }
        TensorInfo qi = src.info(prefix + ".weight_packed");
        if (qi.dtype() != DType.I32 || !Arrays.equals(qi.shape(), new long[] {out, in / 8})) {
            throw bad(src, qi, "must be I32 (" + out + ", " + in / 8 + ") for weight_shape " + Arrays.toString(dims));
        }
        TensorInfo si = src.info(prefix + ".weight_scale");
        checkFloat(src, si);
        if (!Arrays.equals(si.shape(), new long[] {out, in / g})) {
            throw bad(src, si, "must be (" + out + ", " + in / g + "): one scale per group of " + g + " of in_features " + in);
        }
        Tensor rawScale = src.load(si.name());
        Scales.check(src.describe() + ": " + si.name(), rawScale, in / g);
        Tensor scale = rawScale.to(ScalarType.Half).contiguous();
        if (!torch.isfinite(scale).all().item_bool()) {
            throw bad(src, si, "holds values beyond float16's range (65504), which VLAdapt's int4 kernels store scales in");
        }
        Tensor zero = null;
        if (!scheme.symmetric()) {
            TensorInfo zi = src.info(prefix + ".weight_zero_point");
            if (zi.dtype() != DType.I32 || !Arrays.equals(zi.shape(), new long[] {(out + 7) / 8, in / g})) {
                throw bad(src, zi, "must be I32 (" + (out + 7) / 8 + ", " + in / g + "): zero points packed eight to a word along rows");
            }
            zero = unpackRows(src.load(zi.name()), out);
        }
        return new QuantizedWeight(prefix + ".weight", scheme, out, in, src.load(qi.name()), scale, zero);
    }

    private static void checkFloat(TensorSource src, TensorInfo si) {
        if (si.dtype() != DType.F32 && si.dtype() != DType.F16 && si.dtype() != DType.BF16) {
            throw bad(src, si, "must be F32, F16 or BF16");
        }
    }

    private static FormatException bad(TensorSource src, TensorInfo t, String what) {
        return new FormatException(src.describe() + ": " + t.name() + " " + t.dtype().safetensorsName + " " + t.shapeString() + " " + what);
    }

    /** int8 (n, G) values in [-8, 7] to int32 (ceil(n/8), G): row 8p+i in bits [4i, 4i+4) of row p, as z + 8. */
    static Tensor packRows(Tensor zero) {
        long n = zero.size(0), g = zero.size(1), p = (n + 7) / 8;
        Tensor u = zero.to(ScalarType.Int).add(new Scalar(8));
        if (p * 8 != n) u = torch.constant_pad_nd(u, new long[] {0, 0, 0, p * 8 - n});
        Tensor rows = u.view(p, 8, g);
        Tensor word = rows.select(1, 0).clone();
        for (int i = 1; i < 8; i++) word = word.bitwise_or(torch.bitwise_left_shift(rows.select(1, i), new Scalar(4 * i)));
        return word.contiguous();
    }

    /** The inverse of {@link #packRows}: int8 (n, G). */
    static Tensor unpackRows(Tensor packed, long n) {
        long p = packed.size(0), g = packed.size(1);
        TensorVector parts = new TensorVector();
        for (int i = 0; i < 8; i++) parts.push_back(torch.bitwise_right_shift(packed, new Scalar(4 * i)).bitwise_and(new Scalar(15)));
        return torch.stack(parts, 1).reshape(p * 8, g).narrow(0, 0, n).sub(new Scalar(8)).to(ScalarType.Char).contiguous();
    }
}
