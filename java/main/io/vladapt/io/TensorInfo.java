package io.vladapt.io;

import java.util.Arrays;

/** What a checkpoint says about one tensor before it is read. */
public record TensorInfo(String name, DType dtype, long[] shape, String file) {
    public long numel() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
