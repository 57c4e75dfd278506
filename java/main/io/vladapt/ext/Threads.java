package io.vladapt.ext;

import org.bytedeco.pytorch.global.torch;

/**
 * libtorch's intra-op threads and OpenBLAS's pool (where libtorch's GEMMs run), set together:
 * benchmarks and tests state the count with every number they print.
 */
public final class Threads {
    private Threads() {}

    /** Applies -Dvladapt.threads=N when set; returns the thread count in effect. */
    public static int configure() {
        VlOps.load();
        String v = System.getProperty("vladapt.threads");
        if (v != null && !v.isBlank()) set(Integer.parseInt(v.trim()));
        return torch.get_num_threads();
    }

    public static void set(int n) {
        if (n < 1) throw new IllegalArgumentException("thread count must be >= 1, got " + n);
        VlOps.load();
        torch.set_num_threads(n);
        VlOps.vl_set_blas_threads(n);
    }

    /** "libtorch threads = 2, OpenBLAS threads = 2" for benchmark headers. */
    public static String describe() {
        int blas = VlOps.vl_blas_threads();
        return "libtorch threads = " + torch.get_num_threads() + ", OpenBLAS threads = " + (blas < 0 ? "n/a" : blas);
    }
}
