package io.vladapt.testutil;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.ext.OpCheck;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Golden comparisons against a PyTorch reference: max |actual - expected| per named tensor, kept per
 * group (logits, routing weights, gradients, ...) and printed as a table, so a test run states the
 * measured differences, not only that they are under the tolerance.
 */
public final class GoldenDiff {
    private final String title;
    private final double tol;
    private final Map<String, double[]> groups = new LinkedHashMap<>();   // group -> {max diff, tensors}

    public GoldenDiff(String title, double tol) {
        this.title = title;
        this.tol = tol;
    }

    /** Every element. */
    public double check(String group, String name, Tensor actual, Tensor expected) {
        return check(group, name, actual, expected, null);
    }

    /**
     * Elements where {@code mask} is true; mask covers the leading dimensions (e.g. (B, L) valid
     * positions of (B, L, V) logits), the rest broadcast.
     */
    public double check(String group, String name, Tensor actual, Tensor expected, Tensor mask) {
        assertArrayEquals(OpCheck.shape(expected), OpCheck.shape(actual), title + ": " + name + ": shape");
        Tensor diff = actual.detach().to(ScalarType.Double).sub(expected.to(ScalarType.Double)).abs();
        if (mask != null) {
            Tensor m = mask.to(ScalarType.Bool);
            while (m.dim() < diff.dim()) m = m.unsqueeze(-1);
            diff = torch.where(m, diff, torch.zeros_like(diff));
        }
        double d = diff.max().item_double();
        double[] g = groups.computeIfAbsent(group, k -> new double[2]);
        g[0] = Math.max(g[0], d);
        g[1]++;
        assertTrue(d <= tol, title + ": " + name + ": max |a - b| = " + d + " > " + tol);
        return d;
    }

    /** Gradients below this are float noise around a true 0 (e.g. attention key biases, which softmax ignores). */
    public static final double GRAD_NOISE = 1e-6;

    /**
     * Where a reference gradient is above {@link #GRAD_NOISE}: the elements whose Adam update can be
     * compared. Adam divides by sqrt(v) + eps, so a gradient that is 0 up to rounding (1e-10) still moves
     * its weight by a sizeable part of lr, in a direction set by the rounding of each framework.
     */
    public static Tensor aboveNoise(Tensor referenceGrad) {
        return referenceGrad.abs().ge(new org.bytedeco.pytorch.Scalar(GRAD_NOISE));
    }

    /** How many elements of the gradients named {@code prefix}* in an expected map are below {@link #GRAD_NOISE}. */
    public static long belowNoise(Map<String, Tensor> expected, String prefix) {
        long n = 0;
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            if (e.getKey().startsWith(prefix)) n += e.getValue().numel() - aboveNoise(e.getValue()).sum().item().toLong();
        }
        return n;
    }

    /** max |a - b| without asserting anything (to show that two things differ). */
    public static double maxDiff(Tensor a, Tensor b) {
        return a.detach().to(ScalarType.Double).sub(b.detach().to(ScalarType.Double)).abs().max().item_double();
    }

    /** Prints one line per group: how many tensors, the largest difference. */
    public void print() {
        System.out.println(title + " (tolerance " + tol + "):");
        groups.forEach((g, v) -> System.out.printf("  %-28s %4d tensors  max |diff| %.2e%n", g, (long) v[1], v[0]));
    }

    /** The largest difference in a group (0 if none was checked). */
    public double max(String group) {
        double[] g = groups.get(group);
        return g == null ? 0 : g[0];
    }
}
