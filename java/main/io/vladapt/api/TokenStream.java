package io.vladapt.api;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A request in flight: the text it generates, piece by piece, as an iterator; its {@link Completion}
 * once done. Closing (or {@link #cancel}ling) a stream that is still generating stops its sequence
 * at the next decoding step and frees its memory. Pieces are queued by the generation thread, which
 * never waits for a slow reader.
 */
public final class TokenStream implements Iterator<String>, AutoCloseable {
    /** A token was chosen but no text is ready yet (an incomplete character, a possible stop string). */
    private static final Object TICK = new Object();
    private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private final boolean pieces;
    private volatile boolean cancelled;
    private Object next;
    private Completion completion;
    private RuntimeException failure;

    /** @param pieces whether the caller reads pieces; without, only the completion is delivered (no wake-up per token) */
    TokenStream(boolean pieces) {
        this.pieces = pieces;
    }

    boolean wantsPieces() {
        return pieces;
    }

    // ------------------------------------------------------------------ engine side
    void piece(String text) {
        if (pieces) events.add(text);
    }

    void tick() {
        if (pieces) events.add(TICK);
    }

    void finish(Completion c) {
        events.add(c);
    }

    void fail(RuntimeException e) {
        events.add(e);
    }

    boolean cancelled() {
        return cancelled;
    }

    // ------------------------------------------------------------------ caller side
    /** Stops the sequence at the next step (its memory is freed then); the completion says CANCELLED. */
    public void cancel() {
        cancelled = true;
    }

    @Override
    public boolean hasNext() {
        Object o;
        while ((o = peek(Long.MAX_VALUE)) == TICK) next = null;
        return o instanceof String;
    }

    /**
     * The next piece, or "" when a token was generated whose text is not ready yet (a server writes
     * something for every token, and so notices a client that has gone); null at the end.
     */
    public String nextOrEmpty() {
        Object o = peek(Long.MAX_VALUE);
        if (!(o instanceof String) && o != TICK) return null;
        next = null;
        return o == TICK ? "" : (String) o;
    }

    /** The next piece of text (blocks until the model writes it). */
    @Override
    public String next() {
        if (!hasNext()) throw new NoSuchElementException("the generation has ended");
        String s = (String) next;
        next = null;
        return s;
    }

    /**
     * The next piece, waiting at most {@code timeoutMillis}: null when none came in time; throws
     * NoSuchElementException once generation has ended (see {@link #completion()}).
     */
    public String poll(long timeoutMillis) {
        long end = System.nanoTime() + timeoutMillis * 1_000_000;
        Object o;
        while ((o = peek(Math.max(0, (end - System.nanoTime()) / 1_000_000))) == TICK) next = null;
        if (o == null) return null;
        if (!(o instanceof String)) throw new NoSuchElementException("the generation has ended");
        next = null;
        return (String) o;
    }

    /** Waits for the end and returns the whole answer (pieces not read yet are skipped). */
    public Completion completion() {
        while (hasNext()) next();
        if (failure != null) throw failure;
        return completion;
    }

    private Object peek(long timeoutMillis) {
        if (next != null) return next;
        if (completion != null) return completion;
        if (failure != null) throw failure;
        Object o;
        try {
            o = timeoutMillis == Long.MAX_VALUE ? events.take() : events.poll(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancel();
            throw new IllegalStateException("interrupted while waiting for the model", e);
        }
        if (o instanceof Completion c) completion = c;
        else if (o instanceof RuntimeException e) {
            failure = e;
            throw e;
        } else next = o;
        return o;
    }

    /** Cancels the generation if it is still running. */
    @Override
    public void close() {
        if (completion == null && failure == null) cancel();
    }
}
