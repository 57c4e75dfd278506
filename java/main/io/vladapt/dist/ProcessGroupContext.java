package io.vladapt.dist;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.PrefixStore;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;

/**
 * This process's place in a data-parallel run: the store, a Gloo process group over it, a heartbeat,
 * and collectives whose failures name the lost rank. One per process (c10d allows one group per
 * store prefix, and every training run of the process shares it); {@link #current()} builds it from
 * the environment the first time and returns null for a single-process run.
 *
 * <p>Two kinds of waiting, both bounded: collectives (gradient all-reduce, broadcasts) give up after
 * the timeout, as a peer that is alive reaches them within one step's imbalance; store waits for a
 * peer doing something long on its own (rank 0 writing a checkpoint or scoring an epoch, a rank still
 * preparing data) last as long as that peer's heartbeat moves, and end within a few beats once it
 * stops.
 */
public final class ProcessGroupContext {
    private static ProcessGroupContext current;
    private static boolean resolved;

    private final DistEnv env;
    private final Store store;
    private final List<String> who;
    private final Heartbeat heartbeat;
    private final Backend pg;
    private int runs;

    private ProcessGroupContext(DistEnv env) {
        this.env = env;
        // libtorch reads TORCH_CPP_LOG_LEVEL only here (Python calls it at import; nothing does from Java), and without it
        // every c10d socket hiccup prints a warning with a C++ stack trace
        torch.initLogging();
        this.store = Rendezvous.open(env);
        Duration beat = Duration.ofMillis(Math.max(100, Math.min(2000, env.timeout().toMillis() / 10)));
        this.heartbeat = new Heartbeat(store.clone(), store, env.rank(), beat);
        this.who = Rendezvous.join(store, env);
        heartbeat.where("connecting");
        long t0 = System.nanoTime();
        try {
            ProcessGroupGloo.Options o = ProcessGroupGloo.Options.create(new Milliseconds(env.timeout().toMillis()));
            o.devices(new GlooDeviceVector(Rendezvous.device(env)));
            this.pg = new ProcessGroupGloo(new PrefixStore("gloo", store), env.rank(), env.worldSize(), o);
        } catch (RuntimeException e) {
            throw failure("connecting the Gloo process group", e, t0);
        }
        heartbeat.where("connected");
    }

    /** The process group of this process, or null when WORLD_SIZE is unset or 1. */
    public static synchronized ProcessGroupContext current() {
        if (!resolved) {
            DistEnv env = DistEnv.fromEnvironment();
            current = env.distributed() ? new ProcessGroupContext(env) : null;
            resolved = true;
        }
        return current;
    }

    public int rank() {
        return env.rank();
    }

    public int worldSize() {
        return env.worldSize();
    }

    public DistEnv env() {
        return env;
    }

    /** What this rank is doing, published with its heartbeat ("step 17") so a stuck rank can be named. */
    public void where(String w) {
        heartbeat.where(w);
    }

    /** A fresh key prefix per training run in this process (every rank runs the same sequence). */
    public String nextRun() {
        return "vladapt/run" + (++runs);
    }

    // ---------------------------------------------------------------- collectives

    /** Starts a sum all-reduce of {@code t} in place; finish it with {@link #await}. */
    public Work allreduceAsync(Tensor t) {
        return pg.allreduce(new TensorVector(t), new AllreduceOptions().timeout(new Milliseconds(env.timeout().toMillis())));
    }

    /** Starts copying {@code t} from rank {@code root} to every rank; finish it with {@link #await}. */
    public Work broadcastAsync(Tensor t, int root) {
        BroadcastOptions o = new BroadcastOptions();
        o.rootRank(root);
        o.timeout(new Milliseconds(env.timeout().toMillis()));
        return pg.broadcast(new TensorVector(t), o);
    }

    /** Waits for a collective; a failure or the timeout becomes a {@link RankFailure} naming the lost rank. */
    public void await(Work w, String what, long startedNanos) {
        boolean done;
        try {
            done = w._wait(new Milliseconds(env.timeout().toMillis()));
        } catch (RuntimeException e) {
            throw failure(what, e, startedNanos);
        }
        if (!done) throw failure(what + " (timed out)", null, startedNanos);
    }

    public void allreduce(Tensor t, String what) {
        long t0 = System.nanoTime();
        try (PointerScope scope = new PointerScope()) {
            await(allreduceAsync(t), what, t0);
        }
    }

    // ---------------------------------------------------------------- store waits

    /** Sets {@code key} to {@code value} (for the others to {@link #awaitValue}). */
    public void publish(String key, String value) {
        try (PointerScope scope = new PointerScope()) {
            store.set(key, value);
        } catch (RuntimeException e) {
            throw failure("publishing " + key, e, System.nanoTime());
        }
    }

    /** Waits for {@code key}, set by rank {@code from}, as long as that rank's heartbeat moves. */
    public String awaitValue(String key, int from, String what) {
        long t0 = System.nanoTime();
        awaitKeys(List.of(key), List.of(from), what, t0);
        try (PointerScope scope = new PointerScope()) {
            return store.get_to_str(key);
        } catch (RuntimeException e) {
            throw failure(what, e, t0);
        }
    }

    /** Every rank arrives at {@code name}; returns when all have, as long as the missing ones' heartbeats move. */
    public void barrier(String name, String what) {
        long t0 = System.nanoTime();
        publish(name + "/" + rank(), "1");
        List<String> keys = new ArrayList<>();
        List<Integer> ranks = new ArrayList<>();
        for (int r = 0; r < worldSize(); r++) {
            keys.add(name + "/" + r);
            ranks.add(r);
        }
        awaitKeys(keys, ranks, what, t0);
    }

    /**
     * The last store traffic of a run: every rank arrives, and rank 0 (which may host the store) returns
     * only once every other rank has seen that and said so; they touch the store no more, so rank 0's
     * exit cannot cut anyone off mid-wait.
     */
    public void closingBarrier(String name, String what) {
        barrier(name + "/in", what);
        if (rank() != 0) {
            publish(name + "/out/" + rank(), "1");
            return;
        }
        List<String> keys = new ArrayList<>();
        List<Integer> ranks = new ArrayList<>();
        for (int r = 1; r < worldSize(); r++) {
            keys.add(name + "/out/" + r);
            ranks.add(r);
        }
        awaitKeys(keys, ranks, what, System.nanoTime());
    }

    private void awaitKeys(List<String> keys, List<Integer> owners, String what, long t0) {
        long nextLook = 0;
        while (true) {
            List<Integer> missing = new ArrayList<>();
            try (PointerScope scope = new PointerScope()) {
                for (int i = 0; i < keys.size(); i++) if (!store.check(new StringVector(keys.get(i)))) missing.add(owners.get(i));
            } catch (RuntimeException e) {
                throw failure(what, e, t0);
            }
            if (missing.isEmpty()) return;
            if (System.nanoTime() > nextLook) {
                Map<Integer, String> lost;
                try {
                    lost = heartbeat.observe(missing);
                } catch (RuntimeException e) {
                    throw failure(what, e, t0);
                }
                if (!lost.isEmpty()) throw new RankFailure(message(what, null, t0) + lostText(lost), List.copyOf(lost.keySet()), null);
                nextLook = System.nanoTime() + heartbeat.interval().toNanos();
            }
            Rendezvous.sleep(20);
        }
    }

    // ---------------------------------------------------------------- failures

    /**
     * Turns a failed collective or store call into a message naming the lost rank(s): watches the
     * heartbeats for a few intervals; those that stand still are lost; if all move, the ones whose
     * training thread is somewhere else than this one's are named as stuck.
     */
    RankFailure failure(String what, Throwable cause, long startedNanos) {
        String head = message(what, cause, startedNanos);
        List<Integer> others = new ArrayList<>();
        for (int r = 0; r < worldSize(); r++) if (r != rank()) others.add(r);
        Map<Integer, String> lost;
        try {
            long until = System.nanoTime() + heartbeat.lostAfter().plus(heartbeat.interval()).toNanos();
            lost = heartbeat.observe(others);
            while (lost.size() < others.size() && System.nanoTime() < until) {
                Rendezvous.sleep(Math.max(10, heartbeat.interval().toMillis() / 2));
                lost = heartbeat.observe(others);
            }
        } catch (RuntimeException storeGone) {
            List<Integer> host = env.agentStore() || env.storeFile() != null ? List.of() : List.of(0);
            return new RankFailure(head + "; the " + env.storeDescription() + " no longer answers (" + RankFailure.firstLine(storeGone)
                    + ")" + (host.isEmpty() ? "" : ": lost rank 0, which hosted it"), host, cause);
        }
        if (!lost.isEmpty()) return new RankFailure(head + lostText(lost), List.copyOf(lost.keySet()), cause);
        StringBuilder s = new StringBuilder(head).append("; every rank is still alive");
        List<Integer> elsewhere = new ArrayList<>();
        for (int r : others) if (!heartbeat.lastWhere(r).equals(heartbeat.where())) elsewhere.add(r);
        for (int r : elsewhere) s.append("; rank ").append(r).append(" is at '").append(heartbeat.lastWhere(r)).append("'");
        if (!elsewhere.isEmpty()) s.append(" while this rank is at '").append(heartbeat.where()).append("' (stuck?)");
        return new RankFailure(s.toString(), elsewhere, cause);
    }

    private String message(String what, Throwable cause, long startedNanos) {
        return String.format("rank %d: %s failed after %.1f s%s", rank(), what, (System.nanoTime() - startedNanos) / 1e9,
                cause == null ? "" : " (" + RankFailure.firstLine(cause) + ")");
    }

    private String lostText(Map<Integer, String> lost) {
        StringBuilder s = new StringBuilder("; lost ");
        boolean first = true;
        for (Map.Entry<Integer, String> e : lost.entrySet()) {
            if (!first) s.append(", ");
            first = false;
            int r = e.getKey();
            s.append(String.format("rank %d (%s): no heartbeat for %.1f s, its last one said '%s'", r, who.get(r), heartbeat.silentSeconds(r),
                    e.getValue()));
        }
        return s.toString();
    }
}
