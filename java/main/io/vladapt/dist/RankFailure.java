package io.vladapt.dist;

import java.util.List;

/**
 * A data-parallel run cannot go on: a peer died, froze, disagreed, or the store went away. The message
 * names this rank, what it was doing and which rank(s) it lost; the CLI prints it and exits non-zero.
 */
public final class RankFailure extends IllegalStateException {
    private final List<Integer> lostRanks;

    RankFailure(String message, List<Integer> lostRanks, Throwable cause) {
        super(message, cause);
        this.lostRanks = List.copyOf(lostRanks);
    }

    /** The ranks found dead or frozen (empty when none could be named). */
    public List<Integer> lostRanks() {
        return lostRanks;
    }

    /** The first line of a c10d/Gloo error (the rest is a C++ stack trace). */
    static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        m = m.lines().findFirst().orElse(m).strip();
        // Gloo prefixes the build machine's source path: keep the file name only
        return m.replaceFirst("^\\[[^\\]]*/([^/\\]]+)]\\s*", "[$1] ");
    }
}
