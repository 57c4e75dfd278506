package io.vladapt.mma;

/** Lets tests in other packages build the tiny MMA model. */
public final class TinyMmaAccess implements AutoCloseable {
    private final TinyMma t;

    public TinyMmaAccess(long seed) {
        t = new TinyMma(false, seed);
    }

    public MmaModel model() {
        return t.model;
    }

    @Override
    public void close() {
        t.close();
    }
}
