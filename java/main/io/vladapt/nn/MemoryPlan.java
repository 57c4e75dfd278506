package io.vladapt.nn;

import io.vladapt.ext.Memory;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import io.vladapt.quant.QuantScheme;
import io.vladapt.quant.QuantizedCheckpoint;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * What a run will need, item by item, estimated from the model configs before anything is loaded:
 * frozen weights in their dtype, KV caches, training activations, and the JVM with libtorch. Compared
 * with {@link Memory#available()} so that a model that cannot fit is refused in one line that names
 * what would fit, instead of the process being killed halfway through loading.
 */
public final class MemoryPlan {
    /** The JVM, libtorch and OpenCV before any model (measured: about 0.25-0.45 GB). */
    static final long RUNTIME = 500L << 20;

    private final String label;
    private final Map<String, Long> parts = new LinkedHashMap<>();

    /** @param label what this plan is, e.g. "bfloat16" or "bfloat16 with activation checkpointing" */
    public MemoryPlan(String label) {
        this.label = label;
    }

    public MemoryPlan add(String part, long bytes) {
        parts.merge(part, bytes, Long::sum);
        return this;
    }

    public String label() {
        return label;
    }

    public Map<String, Long> parts() {
        return java.util.Collections.unmodifiableMap(parts);
    }

    public long total() {
        return RUNTIME + parts.values().stream().mapToLong(Long::longValue).sum();
    }

    /** "15.8 GB (LLM weights 13.5 GB, ViT weights 0.6 GB, activations 1.2 GB, runtime 0.5 GB)". */
    public String describe() {
        String items = parts.entrySet().stream().map(e -> e.getKey() + " " + Memory.gb(e.getValue())).collect(Collectors.joining(", "));
        return Memory.gb(total()) + " (" + items + (items.isEmpty() ? "" : ", ") + "runtime " + Memory.gb(RUNTIME) + ")";
    }

    public static int bytes(ScalarType t) {
        return switch (t) {
            case Double, Long -> 8;
            case Float, Int -> 4;
            case BFloat16, Half, Short -> 2;
            default -> 1;
        };
    }

    public static long llmWeights(LlamaConfig c, ScalarType t) {
        return elements(LlamaModel.parameterShapes(c)) * bytes(t);
    }

    public static long vitWeights(ClipVisionConfig c, ScalarType t) {
        return elements(ClipVisionModel.parameterShapes(c)) * bytes(t);
    }

    /** LLM weights with the projections held as {@code q} (codes, scales, zero points; null: dense) and the rest in t. */
    public static long llmWeights(LlamaConfig c, ScalarType t, QuantScheme q) {
        return weights(LlamaModel.parameterShapes(c), t, q);
    }

    public static long vitWeights(ClipVisionConfig c, ScalarType t, QuantScheme q) {
        return weights(ClipVisionModel.parameterShapes(c), t, q);
    }

    /** Bytes of a model's tensors with its projections in {@code q} (null: all dense in t). */
    public static long weights(Map<String, long[]> shapes, ScalarType t, QuantScheme q) {
        long b = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long[] s = e.getValue();
            if (q != null && s.length == 2 && QuantizedCheckpoint.isProjection(e.getKey()) && (q.bits() == 8 || s[1] % q.group() == 0)) {
                b += q.bytes(s[0], s[1]);
            } else {
                b += elements(Map.of(e.getKey(), s)) * bytes(t);
            }
        }
        return b;
    }

    /** The projections' dense size in t: what autograd keeps of dequantised weights across a whole graph. */
    public static long projections(Map<String, long[]> shapes, ScalarType t) {
        long n = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            if (e.getValue().length == 2 && QuantizedCheckpoint.isProjection(e.getKey())) n += elements(Map.of(e.getKey(), e.getValue()));
        }
        return n * bytes(t);
    }

    /**
     * The schemes to suggest when a model does not fit, in order: int8, then int4 with the largest group
     * (128, 64, 32) that divides every projection's in_features (none if no group does); only those
     * smaller than {@code current} (null: dense).
     */
    public static List<QuantScheme> smallerSchemes(Map<String, long[]> shapes, QuantScheme current) {
        List<QuantScheme> out = new java.util.ArrayList<>();
        if (current == null) out.add(QuantScheme.int8());
        if (current == null || current.bits() == 8) {
            for (int g : new int[] {128, 64, 32}) {
                boolean divides = shapes.entrySet().stream().allMatch(e -> e.getValue().length != 2
                        || !QuantizedCheckpoint.isProjection(e.getKey()) || e.getValue()[1] % g == 0);
                if (divides) {
                    out.add(QuantScheme.int4(g));
                    break;
                }
            }
        }
        return out;
    }

    /** How a scheme is asked for on the command line: "--quantize int8", "--quantize int4" (group 128), "--quantize int4:64". */
    public static String option(QuantScheme q) {
        return "--quantize " + (q.bits() == 4 && q.group() == QuantScheme.DEFAULT_GROUP && q.symmetric() ? "int4" : q.toString());
    }

    /** "bfloat16" or "bfloat16 with int4:128 weights". */
    public static String label(ScalarType t, QuantScheme q) {
        return io.vladapt.ext.Precision.name(t) + (q == null ? "" : " with " + q + " weights");
    }

    /** Keys and values of every layer for batch x positions. */
    public static long kvCache(LlamaConfig c, long batch, long positions, ScalarType t) {
        return 2L * c.numLayers() * batch * c.numKvHeads() * positions * c.headDim() * bytes(t);
    }

    /**
     * The largest transient of one forward pass over batch x tokens without a graph: a block's MLP
     * (gate, up and their product over the FFN width) and the LM head's logits over every position.
     */
    public static long forwardPass(LlamaConfig c, long batch, long tokens, ScalarType t) {
        return batch * tokens * (3L * c.intermediateSize() * bytes(t) + (long) c.vocabSize() * 4);
    }

    private static long elements(Map<String, long[]> shapes) {
        long n = 0;
        for (long[] s : shapes.values()) {
            long k = 1;
            for (long d : s) k *= d;
            n += k;
        }
        return n;
    }

    /** A language model alone (generate, forward): weights, KV cache, one pass; refused with the dtype that fits. */
    public static void checkLlm(String what, LlamaConfig c, ScalarType t, long batch, long positions) {
        checkLlm(what, c, t, null, batch, positions);
    }

    /**
     * As {@link #checkLlm(String, LlamaConfig, ScalarType, long, long)} with the projections held as
     * {@code q} (null: dense); refused naming a smaller dtype, else a (smaller) --quantize scheme, that fits.
     */
    public static void checkLlm(String what, LlamaConfig c, ScalarType t, QuantScheme q, long batch, long positions) {
        java.util.function.BiFunction<ScalarType, QuantScheme, MemoryPlan> plan = (type, scheme) -> llm(c, type, scheme, batch, positions);
        List<MemoryPlan> alternatives = new java.util.ArrayList<>();
        for (ScalarType other : new ScalarType[] {ScalarType.BFloat16, ScalarType.Half}) {
            if (bytes(other) < bytes(t)) alternatives.add(relabel(plan.apply(other, q), "--dtype " + io.vladapt.ext.Precision.name(other)));
        }
        for (QuantScheme s : smallerSchemes(LlamaModel.parameterShapes(c), q)) alternatives.add(relabel(plan.apply(t, s), option(s)));
        require(what, plan.apply(t, q), alternatives);
    }

    /** A language model alone: weights (projections in q, null: dense), KV cache for batch x positions, one pass. */
    public static MemoryPlan llm(LlamaConfig c, ScalarType t, QuantScheme q, long batch, long positions) {
        return new MemoryPlan(label(t, q)).add("LLM weights", llmWeights(c, t, q)).add("KV cache", kvCache(c, batch, positions, t))
                .add("activations", forwardPass(c, batch, positions, t));
    }

    /** The same parts under another label (the option that selects the plan). */
    public static MemoryPlan relabel(MemoryPlan p, String label) {
        MemoryPlan r = new MemoryPlan(label);
        p.parts().forEach(r::add);
        return r;
    }

    /**
     * Refuses a run whose plan does not fit, in one line: what it needs, what is available, and the
     * first alternative that would fit (or that none does).
     *
     * @param what         the command, e.g. "mma train"
     * @param chosen       the plan for the chosen options
     * @param alternatives other choices in order of preference, each labelled with the option that selects it
     */
    public static void require(String what, MemoryPlan chosen, List<MemoryPlan> alternatives) {
        long avail = Memory.available();
        if (chosen.total() <= avail) return;
        List<MemoryPlan> fitting = alternatives.stream().filter(a -> a.total() <= avail).toList();
        String fits;
        if (fitting.isEmpty()) {
            fits = "; no dtype or option fits: a machine with more memory is needed";
        } else if (fitting.get(0).label().startsWith("--quantize")) {
            // no precision or batch change fits: name every quantisation that does, the user picks the trade-off
            fits = "; " + fitting.stream().filter(a -> a.label().startsWith("--quantize"))
                    .map(a -> a.label() + " needs " + Memory.gb(a.total())).collect(Collectors.joining(", "));
        } else {
            fits = "; " + fitting.get(0).label() + " needs " + Memory.gb(fitting.get(0).total());
        }
        throw new IllegalStateException(what + " needs " + chosen.describe() + " in " + chosen.label() + ", but "
                + Memory.gb(avail) + " is available" + fits);
    }
}
