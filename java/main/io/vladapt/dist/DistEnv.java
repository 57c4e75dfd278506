package io.vladapt.dist;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Where this process sits in a data-parallel run, read from the environment that {@code vladapt launch}
 * (or a scheduler setting the same torchrun-style variables) gives every worker:
 *
 * <pre>
 * RANK, WORLD_SIZE, LOCAL_RANK      this worker's global rank, the number of workers, its index on this machine
 * MASTER_ADDR, MASTER_PORT          the TCPStore every worker meets at
 * VLADAPT_STORE_FILE                a FileStore instead (one machine, or a shared file system)
 * VLADAPT_DIST_TIMEOUT              seconds a rank waits for a peer in a collective or to join (default 60)
 * VLADAPT_AGENT_STORE=1             the launcher hosts the TCPStore; otherwise rank 0 hosts it
 * </pre>
 *
 * Without WORLD_SIZE (or with WORLD_SIZE=1) training is single-process and nothing of c10d is loaded.
 */
public record DistEnv(int rank, int worldSize, int localRank, String masterAddr, int masterPort, Path storeFile, Duration timeout,
                      boolean agentStore) {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    public static final DistEnv SINGLE = new DistEnv(0, 1, 0, null, 0, null, DEFAULT_TIMEOUT, false);

    public DistEnv {
        if (worldSize < 1) throw new IllegalArgumentException("WORLD_SIZE must be >= 1, got " + worldSize);
        if (rank < 0 || rank >= worldSize) throw new IllegalArgumentException("RANK " + rank + " is outside 0.." + (worldSize - 1));
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("VLADAPT_DIST_TIMEOUT must be positive: " + timeout);
        if (worldSize > 1 && storeFile == null && (masterAddr == null || masterPort <= 0 || masterPort > 65535)) {
            throw new IllegalArgumentException("WORLD_SIZE is " + worldSize + " but neither VLADAPT_STORE_FILE nor MASTER_ADDR and "
                    + "MASTER_PORT (1..65535) say where the ranks meet");
        }
    }

    public static DistEnv fromEnvironment() {
        return from(System.getenv());
    }

    public static DistEnv from(Map<String, String> env) {
        int world = integer(env, "WORLD_SIZE", 1);
        if (world == 1) return SINGLE;
        String file = env.get("VLADAPT_STORE_FILE");
        String t = env.get("VLADAPT_DIST_TIMEOUT");
        Duration timeout = DEFAULT_TIMEOUT;
        if (t != null && !t.isBlank()) {
            try {
                timeout = Duration.ofMillis(Math.round(Double.parseDouble(t.trim()) * 1000));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("VLADAPT_DIST_TIMEOUT must be seconds, got '" + t + "'");
            }
        }
        if (!env.containsKey("RANK")) throw new IllegalArgumentException("WORLD_SIZE is " + world + " but RANK is not set");
        return new DistEnv(integer(env, "RANK", 0), world, integer(env, "LOCAL_RANK", 0), env.get("MASTER_ADDR"),
                integer(env, "MASTER_PORT", 0), file == null || file.isBlank() ? null : Path.of(file), timeout,
                "1".equals(env.get("VLADAPT_AGENT_STORE")));
    }

    private static int integer(Map<String, String> env, String name, int otherwise) {
        String v = env.get(name);
        if (v == null || v.isBlank()) return otherwise;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be an integer, got '" + v + "'");
        }
    }

    public boolean distributed() {
        return worldSize > 1;
    }

    /** Where the ranks meet, for messages. */
    public String storeDescription() {
        if (storeFile != null) return "FileStore " + storeFile;
        return "TCPStore " + masterAddr + ":" + masterPort + (agentStore ? " (hosted by vladapt launch on node 0)" : " (hosted by rank 0)");
    }

    /** True when every rank runs on this machine's loopback (the Gloo transport then binds 127.0.0.1). */
    public boolean loopback() {
        return storeFile != null || "127.0.0.1".equals(masterAddr) || "localhost".equals(masterAddr) || "::1".equals(masterAddr);
    }
}
