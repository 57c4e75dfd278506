package io.vladapt.dist;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.StringVector;

/**
 * Tells a lost rank from a slow one. Every rank's daemon thread writes {@code vladapt/beat/RANK =
 * "COUNT WHERE"} into the store each interval: the count proves the process still runs (a killed,
 * crashed or frozen JVM stops counting), WHERE is what its training thread is doing ("step 17"), so
 * a rank that is alive but stuck can be named too.
 *
 * <p>Gloo's own errors name a peer's socket address, never its rank; this is how the message a
 * user sees says "rank 1".
 */
final class Heartbeat implements AutoCloseable {
    private final Store beats, reads;
    private final int rank;
    private final Duration interval;
    private final Thread thread;
    private volatile String where = "starting";
    private volatile boolean stopped;
    private long count;

    /** What was last read of a peer's beat, and when it last changed. */
    private final Map<Integer, String> lastValue = new HashMap<>();
    private final Map<Integer, Long> lastChange = new HashMap<>();

    /** {@code beats}: a connection of the beating thread's own, so a long store call elsewhere never delays a beat. */
    Heartbeat(Store beats, Store reads, int rank, Duration interval) {
        this.beats = beats;
        this.reads = reads;
        this.rank = rank;
        this.interval = interval;
        beat();   // present before anyone can look
        thread = new Thread(this::loop, "vladapt-heartbeat-" + rank);
        thread.setDaemon(true);
        thread.start();
    }

    static String key(int rank) {
        return "vladapt/beat/" + rank;
    }

    Duration interval() {
        return interval;
    }

    /** How long a beat may stand still before its rank counts as lost. */
    Duration lostAfter() {
        return interval.multipliedBy(4);
    }

    void where(String w) {
        where = w;
    }

    String where() {
        return where;
    }

    private void beat() {
        try (PointerScope scope = new PointerScope()) {
            beats.set(key(rank), (++count) + " " + where);
        }
    }

    private void loop() {
        while (!stopped) {
            try {
                Thread.sleep(interval.toMillis());
                beat();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // the store is gone (its host exited): the training thread finds out and says so
            }
        }
    }

    /**
     * Reads the peers' beats once and returns those that have not changed for {@link #lostAfter()},
     * with their last WHERE. A rank seen for the first time counts from now.
     */
    Map<Integer, String> observe(List<Integer> ranks) {
        long now = System.nanoTime();
        Map<Integer, String> lost = new LinkedHashMap<>();
        for (int r : ranks) {
            if (r == rank) continue;
            String v = read(r);
            if (!v.equals(lastValue.get(r))) {
                lastValue.put(r, v);
                lastChange.put(r, now);
            } else if (now - lastChange.get(r) > lostAfter().toNanos()) {
                lost.put(r, whereOf(v));
            }
        }
        return lost;
    }

    /** The last WHERE a rank published ("never beat" if none). */
    String lastWhere(int r) {
        String v = lastValue.get(r);
        return v == null ? "never beat" : whereOf(v);
    }

    /** Seconds since a peer's beat last changed. */
    double silentSeconds(int r) {
        Long t = lastChange.get(r);
        return t == null ? Double.NaN : (System.nanoTime() - t) / 1e9;
    }

    private String read(int r) {
        try (PointerScope scope = new PointerScope()) {
            if (!reads.check(new StringVector(key(r)))) return "";
            return reads.get_to_str(key(r));
        }
    }

    private static String whereOf(String v) {
        int sp = v.indexOf(' ');
        return sp < 0 ? "never beat" : v.substring(sp + 1);
    }

    @Override
    public void close() {
        stopped = true;
        thread.interrupt();
    }
}
