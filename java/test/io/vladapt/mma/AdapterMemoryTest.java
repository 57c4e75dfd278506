package io.vladapt.mma;

import static io.vladapt.testutil.T.leaf;
import static io.vladapt.testutil.T.randn;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/**
 * 20,000 forward+backward calls of the MM-Adapter op must not grow native memory. The process RSS
 * also moves with the Java heap (every call leaves a few KB of Java garbage until the next GC), so
 * the surefire JVM runs with a pre-touched fixed-size heap and the growth of committed Java memory
 * is subtracted: what remains is native.
 */
class AdapterMemoryTest {
    static final int WARMUP = 2_000, CALLS = 20_000;
    static final long LIMIT_BYTES = 50L << 20;

    static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    static long javaCommitted() {
        MemoryMXBean m = ManagementFactory.getMemoryMXBean();
        return m.getHeapMemoryUsage().getCommitted() + m.getNonHeapMemoryUsage().getCommitted();
    }

    @Test
    void rssStaysFlatOver20000ForwardBackwardCalls() throws IOException {
        try (PointerScope setup = new PointerScope()) {
            ScalarType f = ScalarType.Float;
            Tensor x = leaf(f, 1, 2, 8, 64), z = leaf(f, 1, 2, 64), cot = randn(f, 1, 2, 8, 64);
            MmAdapterWeights w = new MmAdapterWeights(leaf(f, 0.1, 8, 64), leaf(f, 0.1, 8), leaf(f, 0.1, 64, 4),
                    leaf(f, 0.1, 64), leaf(f, 0.1, 64, 4), leaf(f, 0.1, 64), leaf(f, 0.1, 2, 64), leaf(f, 0.1, 2));
            AdapterSettings s = AdapterSettings.LAVIN_7B;
            for (int i = 0; i < WARMUP; i++) step(x, z, w, s, cot);
            System.gc();
            long rss0 = rssBytes(), java0 = javaCommitted();
            for (int i = 0; i < CALLS; i++) step(x, z, w, s, cot);
            System.gc();
            long rss = rssBytes() - rss0, java = javaCommitted() - java0, growth = rss - Math.max(0, java);
            System.out.printf("AdapterMemoryTest: over %d forward+backward calls RSS grew %.1f MB, committed Java "
                    + "memory %.1f MB, native %.1f MB%n", CALLS, rss / 1e6, java / 1e6, growth / 1e6);
            assertTrue(growth < LIMIT_BYTES, "native memory grew by " + growth / (1 << 20) + " MB over " + CALLS + " calls");
        }
    }

    private static void step(Tensor x, Tensor z, MmAdapterWeights w, AdapterSettings s, Tensor cot) {
        try (PointerScope step = new PointerScope()) {
            MmAdapterOp.forward(x, z, w, s, true).backward(cot, new BoolOptional(), false, new TensorArrayRefOptional());
        }
    }
}
