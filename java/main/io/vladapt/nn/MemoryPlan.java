package io.vladapt.nn;

import io.vladapt.ext.Memory;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
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
        java.util.function.Function<ScalarType, MemoryPlan> plan = type -> new MemoryPlan(io.vladapt.ext.Precision.name(type))
                .add("LLM weights", llmWeights(c, type)).add("KV cache", kvCache(c, batch, positions, type))
                .add("activations", forwardPass(c, batch, positions, type));
        List<MemoryPlan> alternatives = new java.util.ArrayList<>();
        for (ScalarType other : new ScalarType[] {ScalarType.BFloat16, ScalarType.Half}) {
            if (bytes(other) < bytes(t)) {
                MemoryPlan p = plan.apply(other), r = new MemoryPlan("--dtype " + io.vladapt.ext.Precision.name(other));
                p.parts().forEach(r::add);
                alternatives.add(r);
            }
        }
        require(what, plan.apply(t), alternatives);
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
        String fits = alternatives.stream().filter(a -> a.total() <= avail).findFirst()
                .map(a -> "; " + a.label() + " needs " + Memory.gb(a.total())).orElse("; no dtype or option fits: "
                        + "a machine with more memory is needed");
        throw new IllegalStateException(what + " needs " + chosen.describe() + " in " + chosen.label() + ", but "
                + Memory.gb(avail) + " is available" + fits);
    }
}
