package io.vladapt.bench;

import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;

/**
 * Interleaved timing of competing variants: each round runs every variant for a batch of calls
 * (each batch inside its own PointerScope, so tensors are freed as they would be in a training
 * loop), and the per-call time of that batch is one sample. Medians over rounds are robust to the
 * other core being busy; interleaving spreads any drift over all variants equally.
 */
public final class Timer {
    private Timer() {}

    /** Median microseconds per call for each variant. */
    public static double[] medianMicros(int warmupCalls, int rounds, int callsPerRound, Runnable... variants) {
        for (Runnable v : variants) {
            try (PointerScope scope = new PointerScope()) {
                for (int i = 0; i < warmupCalls; i++) v.run();
            }
        }
        double[][] samples = new double[variants.length][rounds];
        for (int round = 0; round < rounds; round++) {
            for (int v = 0; v < variants.length; v++) {
                try (PointerScope scope = new PointerScope()) {
                    long t0 = System.nanoTime();
                    for (int i = 0; i < callsPerRound; i++) variants[v].run();
                    samples[v][round] = (System.nanoTime() - t0) / 1e3 / callsPerRound;
                }
            }
        }
        double[] medians = new double[variants.length];
        for (int v = 0; v < variants.length; v++) medians[v] = median(samples[v]);
        return medians;
    }

    public static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
