package io.vladapt.mma;

/**
 * Hyper-parameters of an adapter op (not trained).
 *
 * @param groups      groups of the up-projections (LaVIN: 2); must divide r and d
 * @param scale       s in y = x + s * adapter(x) (LaVIN: 1)
 * @param temperature router softmax temperature (LaVIN: 10 for 7B, 5 for 13B)
 * @param dropout     dropout on the down-projection output while training (LaVIN: 0.1)
 */
public record AdapterSettings(long groups, double scale, double temperature, double dropout) {
    /** LaVIN-7B's settings. */
    public static final AdapterSettings LAVIN_7B = new AdapterSettings(2, 1.0, 10.0, 0.1);

    public AdapterSettings {
        if (groups < 1) throw new IllegalArgumentException("groups must be >= 1, got " + groups);
        if (!Double.isFinite(scale)) throw new IllegalArgumentException("scale must be finite, got " + scale);
        if (!(temperature > 0) || !Double.isFinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a positive number, got " + temperature);
        }
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
    }
}
