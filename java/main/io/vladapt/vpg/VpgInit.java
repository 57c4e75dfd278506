package io.vladapt.vpg;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where a training-from-scratch VPG starts: saved weights (an LLM-independent initialisation, the role
 * of BLIP-2's stage-1 Q-Former), or a random Q-Former shaped like a given VPG folder, or of a given
 * config. A random one is seeded from the run's seed, so the seed varies the VPG init too.
 */
public sealed interface VpgInit {
    /** Start from the VPG saved in {@code dir}. */
    record Weights(Path dir) implements VpgInit {}

    /** A random Q-Former with the config and ViT block of the Q-Former VPG in {@code dir} (e.g. the source VPG). */
    record RandomLike(Path dir) implements VpgInit {}

    /** A random Q-Former of this config, reading ViT block {@code vitBlock} (-1: the last). */
    record Random(QFormerConfig config, int vitBlock) implements VpgInit {}

    static VpgInit weights(Path dir) {
        return new Weights(dir);
    }

    static VpgInit randomLike(Path dir) {
        return new RandomLike(dir);
    }

    static VpgInit random(QFormerConfig c, int vitBlock) {
        return new Random(c, vitBlock);
    }

    /** The saved folder to load, or null for a fresh one from {@link #fresh}. */
    default Path folder() {
        return this instanceof Weights w ? w.dir() : null;
    }

    /** A fresh random VPG (Weights: null, the folder is loaded instead). */
    default Vpg fresh(long seed) {
        if (this instanceof Random r) return new QFormerVpg(QFormerInit.random(r.config(), seed), r.vitBlock());
        if (this instanceof RandomLike l) {
            try (Vpg v = Vpgs.load(l.dir())) {
                if (!(v instanceof QFormerVpg q)) {
                    throw new IllegalArgumentException(l.dir() + ": a random VPG shaped like a '" + v.kind() + "' VPG is not supported (Q-Former only)");
                }
                return new QFormerVpg(QFormerInit.random(q.qformer().config(), seed), q.vitBlock());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("reading " + l.dir(), e);
            }
        }
        return null;
    }

    /** Which cached ViT features this VPG reads ({@link Vpgs#featureKey}). */
    default String featureKey() throws IOException {
        if (this instanceof Weights w) return Vpgs.featureKey(w.dir());
        if (this instanceof RandomLike l) return Vpgs.featureKey(l.dir());
        return Vpgs.qformerFeatures(((Random) this).vitBlock());
    }

    /** For run specs and logs. */
    default String describe() {
        if (this instanceof Weights w) return "VPG from " + w.dir().toAbsolutePath().normalize();
        if (this instanceof RandomLike l) return "random Q-Former shaped like " + l.dir().toAbsolutePath().normalize();
        Random r = (Random) this;
        return "random Q-Former " + r.config() + " on ViT block " + r.vitBlock();
    }
}
