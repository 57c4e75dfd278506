package io.vladapt.quant;

import java.util.Locale;

/**
 * A weight-only quantisation scheme: int8 with one scale per output channel, or int4 with one scale
 * per {@code group} consecutive inputs of a row (32, 64 or 128). Symmetric schemes store no zero
 * points; asymmetric ones store one per scale. Written on the command line as {@code int8},
 * {@code int4} (group 128), {@code int4:64}, with {@code :asym} appended for zero points.
 */
public record QuantScheme(int bits, int group, boolean symmetric) {
    /** The int4 group when none is given: the common choice of GPTQ/AWQ/compressed-tensors checkpoints. */
    public static final int DEFAULT_GROUP = 128;

    public QuantScheme {
        if (bits == 8) {
            if (group != 0) throw new IllegalArgumentException("int8 is per output channel: it takes no group, got " + group);
        } else if (bits == 4) {
            if (group != 32 && group != 64 && group != 128) {
                throw new IllegalArgumentException("int4 group must be 32, 64 or 128, got " + group);
            }
        } else {
            throw new IllegalArgumentException("bits must be 8 or 4, got " + bits);
        }
    }

    public static QuantScheme int8() {
        return new QuantScheme(8, 0, true);
    }

    public static QuantScheme int4(int group) {
        return new QuantScheme(4, group, true);
    }

    public QuantScheme asymmetric() {
        return new QuantScheme(bits, group, false);
    }

    /** "int8", "int4", "int4:64", "int4:32:asym", "int8:asym". */
    public static QuantScheme parse(String text) {
        String[] parts = text.trim().toLowerCase(Locale.ROOT).split(":");
        boolean sym = true;
        int n = parts.length;
        if (n > 1 && parts[n - 1].equals("asym")) {
            sym = false;
            n--;
        }
        String hint = " (int8, int4, int4:32, int4:64, int4:128, optionally followed by :asym)";
        if (parts[0].equals("int8") && n == 1) return new QuantScheme(8, 0, sym);
        if (parts[0].equals("int4") && n <= 2) {
            int group = DEFAULT_GROUP;
            if (n == 2) {
                try {
                    group = Integer.parseInt(parts[1]);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bad quantisation scheme '" + text + "': group '" + parts[1]
                            + "' is not a number" + hint);
                }
            }
            if (group != 32 && group != 64 && group != 128) {
                throw new IllegalArgumentException("bad quantisation scheme '" + text + "': int4 group must be 32, 64 or 128");
            }
            return new QuantScheme(4, group, sym);
        }
        throw new IllegalArgumentException("bad quantisation scheme '" + text + "'" + hint);
    }

    /** Inputs that share one scale in a row of in_features inputs. */
    public long groupFor(long inFeatures) {
        return bits == 8 ? inFeatures : group;
    }

    /** Bytes one (out, in) weight takes in memory: codes, scales, zero points. */
    public long bytes(long out, long in) {
        long scales = bits == 8 ? out : out * (in / group);
        long codes = bits == 8 ? out * in : out * in / 2;
        long scaleBytes = bits == 8 ? 4 : 2;
        return codes + scales * scaleBytes + (symmetric ? 0 : scales);
    }

    @Override
    public String toString() {
        return (bits == 8 ? "int8" : "int4:" + group) + (symmetric ? "" : ":asym");
    }

    /** "int8 per channel, symmetric" / "int4 group 128, asymmetric" for messages. */
    public String describe() {
        return (bits == 8 ? "int8 per channel" : "int4 group " + group) + (symmetric ? ", symmetric" : ", asymmetric");
    }
}
