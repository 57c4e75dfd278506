package io.vladapt.nn;

import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Small conveniences over the preset's factory functions (whose optional arguments must never be null). */
public final class Tensors {
    private Tensors() {}

    public static TensorOptions options(ScalarType type) {
        return new TensorOptions().dtype(new ScalarTypeOptional(type));
    }

    /** dtype {@code type} on {@code like}'s device: tensors a model makes for itself follow its weights. */
    public static TensorOptions options(ScalarType type, Tensor like) {
        TensorOptions o = options(type);
        return like.is_cpu() ? o : o.device(new DeviceOptional(like.device()));
    }

    /** {@code t} on {@code like}'s device (itself when it is already there). */
    public static Tensor onDeviceOf(Tensor t, Tensor like) {
        if (t.is_cpu() && like.is_cpu()) return t;
        return deviceName(t).equals(deviceName(like)) ? t : t.to(like.device(), t.scalar_type().intern());
    }

    /** "cpu", "cuda:0", "meta". */
    public static String deviceName(Tensor t) {
        return t.is_cpu() ? "cpu" : t.device().str().getString();
    }

    /** zeros with {@code like}'s device. */
    public static Tensor zerosLike(ScalarType type, Tensor like, long... shape) {
        return torch.zeros(shape, options(type, like));
    }

    public static Tensor empty(ScalarType type, long... shape) {
        return torch.empty(shape, options(type), new MemoryFormatOptional());
    }

    public static Tensor zeros(ScalarType type, long... shape) {
        return torch.zeros(shape, options(type));
    }

    public static Tensor full(ScalarType type, double value, long... shape) {
        return torch.full(shape, new Scalar(value), options(type));
    }

    /** A 1-D int64 tensor holding the values. */
    public static Tensor longs(long... values) {
        Tensor t = empty(ScalarType.Long, values.length);
        if (values.length > 0) t.data_ptr_long().put(values);
        return t;
    }

    /** A 1-D float32 tensor holding the values. */
    public static Tensor floats(float... values) {
        Tensor t = empty(ScalarType.Float, values.length);
        if (values.length > 0) t.data_ptr_float().put(values);
        return t;
    }

    /** The values of a tensor of any shape as a Java array (copied to CPU int64 first). */
    public static long[] toLongs(Tensor t) {
        Tensor c = t.to(ScalarType.Long).cpu().contiguous();
        long[] out = new long[(int) c.numel()];
        if (out.length > 0) c.data_ptr_long().get(out);
        return out;
    }

    /** The values of a tensor of any shape as a Java array (copied to CPU float32 first). */
    public static float[] toFloats(Tensor t) {
        Tensor c = t.to(ScalarType.Float).cpu().contiguous();
        float[] out = new float[(int) c.numel()];
        if (out.length > 0) c.data_ptr_float().get(out);
        return out;
    }
}
