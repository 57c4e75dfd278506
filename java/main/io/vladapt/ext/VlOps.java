package io.vladapt.ext;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of native/vladapt.h, one method per C function, names unchanged so that Java maps
 * one-to-one to cpp/. Tensors cross as {@code at::Tensor*}: pass an {@code org.bytedeco.pytorch.Tensor}
 * (or null for an optional input). Results are written into caller-allocated {@code new Tensor()}
 * objects, so Java owns them. Call through the checked facades (io.vladapt.mma, io.vladapt.vpg), not
 * directly: these do no validation.
 *
 * <p>Not inheriting the pytorch preset is deliberate: the preset's properties would need libtorch's
 * full header tree, while this extension only sees the stable C ABI (see CMakeLists.txt).
 */
@Platform(include = "vladapt.h", link = "vladapt")
public final class VlOps {
    static {
        // libgomp (loaded with libtorch) reads OMP_WAIT_POLICY once, at load. Its default, spinning
        // after every parallel region, made a 2-core VM 6-10x slower on adapter-sized ops (the spinning
        // thread competes with the JVM's own threads); sleeping workers cost ~10-50 us per region
        // instead. A value the user set is kept. See README "Threads".
        NativeEnv.setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
        // The same for OpenBLAS (float32 GEMMs in bytedeco's libtorch): its pool threads spin for 2^28
        // cycles (~0.1 s) after each GEMM, while libtorch's OpenMP threads run the elementwise ops between
        // GEMMs on the same cores. 2^4 cycles makes them sleep at once: the demo-shaped float32 training
        // step went from 0.7-2.3 s to 0.40-0.50 s on a loaded 2-core VM (README "Threads").
        NativeEnv.setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0);
        // libtorch_cpu/libc10 first: libvladapt.so needs them and finds them by soname once loaded.
        Loader.load(org.bytedeco.pytorch.global.torch.class);
        Loader.load();
    }

    private VlOps() {}

    /** Loads the natives (idempotent); the first call takes a second or two. */
    public static void load() {}

    public static native void vl_rep_adapter(@Cast("vl_tensor") Pointer out, @Cast("vl_tensor") Pointer x,
            @Cast("vl_tensor") Pointer A_w, @Cast("vl_tensor") Pointer A_b,
            @Cast("vl_tensor") Pointer U_w, @Cast("vl_tensor") Pointer U_b,
            @Cast("int64_t") long groups, double scale, double dropout, int training);

    public static native void vl_mm_router(@Cast("vl_tensor") Pointer out, @Cast("vl_tensor") Pointer z,
            @Cast("vl_tensor") Pointer R_w, @Cast("vl_tensor") Pointer R_b, double temperature);

    public static native void vl_mm_adapter(@Cast("vl_tensor") Pointer out, @Cast("vl_tensor") Pointer x,
            @Cast("vl_tensor") Pointer z, @Cast("vl_tensor") Pointer A_w, @Cast("vl_tensor") Pointer A_b,
            @Cast("vl_tensor") Pointer B_w, @Cast("vl_tensor") Pointer B_b,
            @Cast("vl_tensor") Pointer D_w, @Cast("vl_tensor") Pointer D_b,
            @Cast("vl_tensor") Pointer R_w, @Cast("vl_tensor") Pointer R_b,
            @Cast("int64_t") long groups, double scale, double temperature, double dropout, int training);

    public static native void vl_mm_adapter_infer(@Cast("vl_tensor") Pointer out, @Cast("vl_tensor") Pointer x,
            @Cast("vl_tensor") Pointer route, @Cast("vl_tensor") Pointer A_w, @Cast("vl_tensor") Pointer A_b,
            @Cast("vl_tensor") Pointer B_w, @Cast("vl_tensor") Pointer B_b,
            @Cast("vl_tensor") Pointer D_w, @Cast("vl_tensor") Pointer D_b,
            @Cast("int64_t") long groups, double scale);

    public static native void vl_reparam_merge(@Cast("vl_tensor") Pointer out_w, @Cast("vl_tensor") Pointer out_b,
            @Cast("vl_tensor") Pointer W, @Cast("vl_tensor") Pointer W_b,
            @Cast("vl_tensor") Pointer A_w, @Cast("vl_tensor") Pointer A_b,
            @Cast("vl_tensor") Pointer B_w, @Cast("vl_tensor") Pointer B_b,
            @Cast("vl_tensor") Pointer D_w, @Cast("vl_tensor") Pointer D_b,
            @Cast("vl_tensor") Pointer route, @Cast("int64_t") long groups, double scale);

    public static native void vl_fuse_projector(@Cast("vl_tensor") Pointer out_w, @Cast("vl_tensor") Pointer out_b,
            @Cast("vl_tensor") Pointer C_w, @Cast("vl_tensor") Pointer C_b,
            @Cast("vl_tensor") Pointer S_w, @Cast("vl_tensor") Pointer S_b);

    public static native void vl_quantize(@Cast("vl_tensor") Pointer out_q, @Cast("vl_tensor") Pointer out_scale,
            @Cast("vl_tensor") Pointer out_zero, @Cast("vl_tensor") Pointer w, @Cast("int64_t") long bits,
            @Cast("int64_t") long group, int symmetric);

    public static native void vl_dequantize(@Cast("vl_tensor") Pointer out, @Cast("vl_tensor") Pointer q,
            @Cast("vl_tensor") Pointer scale, @Cast("vl_tensor") Pointer zero, @Cast("int64_t") long bits,
            @Cast("int64_t") long group, int dtype);

    public static native void vl_quant_linear(@Cast("vl_tensor") Pointer out, @Cast("vl_tensor") Pointer x,
            @Cast("vl_tensor") Pointer q, @Cast("vl_tensor") Pointer scale, @Cast("vl_tensor") Pointer zero,
            @Cast("vl_tensor") Pointer bias, @Cast("int64_t") long bits, @Cast("int64_t") long group);

    public static native @Cast("int64_t") long vl_stream_read(@Cast("vl_tensor") Pointer t);

    public static native int vl_quant_path(int request);

    public static native int vl_cpu_flags();

    public static native int vl_set_blas_threads(int n);

    public static native int vl_blas_threads();

    public static native int vl_has_cuda_kernels();
}
