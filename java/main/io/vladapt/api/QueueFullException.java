package io.vladapt.api;

/** The model's waiting queue is full: try again later (the server answers 429). */
public final class QueueFullException extends RuntimeException {
    public QueueFullException(int capacity) {
        super("the request queue is full (" + capacity + " waiting); try again later");
    }
}
