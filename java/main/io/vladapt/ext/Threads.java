package io.vladapt.ext;

import org.bytedeco.pytorch.global.torch;

/** libtorch's intra-op thread count: benchmarks and tests state it with every number they print. */
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
        torch.set_num_threads(n);
    }
}
