package io.vladapt.nn;

import io.vladapt.ext.OpCheck;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import org.bytedeco.pytorch.Tensor;

/**
 * A model's tensors by their HF names, so that loading is a table and not code. The container owns
 * them: they survive the PointerScope they were made in and are freed by {@link #close()}.
 */
public final class Params implements AutoCloseable {
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    /** Adds (and takes ownership of) a tensor; replacing a name frees the old tensor. */
    public Tensor put(String name, Tensor t) {
        Tensor old = tensors.put(name, t.retainReference());
        if (old != null && old != t) old.releaseReference();
        return t;
    }

    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("no parameter named '" + name + "'");
        return t;
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    public Map<String, Tensor> asMap() {
        return Collections.unmodifiableMap(tensors);
    }

    /** Checks a tensor's shape against what the config implies. */
    public static void requireShape(String name, Tensor t, long[] want, String source) {
        long[] got = OpCheck.shape(t);
        if (!Arrays.equals(got, want)) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(got) + " in " + source
                    + ", but the config implies " + Arrays.toString(want));
        }
    }

    public long count() {
        long n = 0;
        for (Tensor t : tensors.values()) n += t.numel();
        return n;
    }

    @Override
    public void close() {
        tensors.values().forEach(Tensor::releaseReference);
        tensors.clear();
    }
}
