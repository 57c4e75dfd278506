package io.vladapt.dist;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.FileStore;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;

/** How ranks find each other: the store (TCPStore or FileStore), joining it, and the Gloo transport device. */
final class Rendezvous {
    private Rendezvous() {}

    /**
     * A TCPStore server alone, as {@code vladapt launch} hosts it on node 0 so that the store outlives any
     * one rank (and a lost rank 0 can still be named). Port 0 picks a free port: read it with
     * {@link #port(TCPStore)}.
     */
    static TCPStore host(int port, Duration timeout) {
        TCPStoreOptions o = new TCPStoreOptions();
        o.port((short) port).isServer(true).waitWorkers(false).timeout(new Milliseconds(timeout.toMillis()));
        try {
            return new TCPStore("127.0.0.1", o);   // the server listens on every interface; this is its own client
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot host the rendezvous TCPStore on port " + port + ": " + RankFailure.firstLine(e), e);
        }
    }

    static int port(TCPStore s) {
        return s.getPort() & 0xffff;
    }

    /** This rank's connection to the store; rank 0 hosts the TCPStore unless the launcher does. */
    static Store open(DistEnv env) {
        Milliseconds t = new Milliseconds(env.timeout().toMillis());
        try {
            if (env.storeFile() != null) {
                FileStore fs = new FileStore(env.storeFile().toString(), env.worldSize());
                fs.setTimeout(t);
                return fs;
            }
            TCPStoreOptions o = new TCPStoreOptions();
            o.port((short) env.masterPort()).isServer(env.rank() == 0 && !env.agentStore()).waitWorkers(false).timeout(t);
            return new TCPStore(env.masterAddr(), o);
        } catch (RuntimeException e) {
            throw new IllegalStateException("rank " + env.rank() + ": cannot reach the " + env.storeDescription() + " within "
                    + env.timeout().toSeconds() + " s: " + RankFailure.firstLine(e), e);
        }
    }

    /**
     * Registers this rank ("host pid N" under vladapt/who/RANK) and waits until every rank has, so a
     * missing one is named rather than left to a Gloo timeout. Two processes with one rank are refused.
     * Returns who each rank is.
     */
    static List<String> join(Store store, DistEnv env) {
        int r = env.rank();
        String me = hostName() + " pid " + ProcessHandle.current().pid();
        try (PointerScope scope = new PointerScope()) {
            long claims = store.add("vladapt/rank/" + r, 1);
            if (claims != 1) {
                throw new IllegalStateException("rank " + r + " (" + me + "): another process already joined as rank " + r + " at the "
                        + env.storeDescription() + (env.storeFile() != null ? "; a store file left by an earlier run? use a fresh one" : ""));
            }
            store.set("vladapt/who/" + r, me);
        }
        long deadline = System.nanoTime() + env.timeout().toNanos();
        while (true) {
            List<Integer> missing = new ArrayList<>();
            try (PointerScope scope = new PointerScope()) {
                for (int i = 0; i < env.worldSize(); i++) if (!store.check(new StringVector("vladapt/who/" + i))) missing.add(i);
            }
            if (missing.isEmpty()) break;
            if (System.nanoTime() > deadline) {
                throw new RankFailure("rank " + r + ": rank(s) " + missing + " did not join the " + env.storeDescription() + " within "
                        + env.timeout().toSeconds() + " s (VLADAPT_DIST_TIMEOUT)", missing, null);
            }
            sleep(20);
        }
        List<String> who = new ArrayList<>();
        try (PointerScope scope = new PointerScope()) {
            for (int i = 0; i < env.worldSize(); i++) who.add(store.get_to_str("vladapt/who/" + i));
        }
        return who;
    }

    /**
     * The network device Gloo binds: GLOO_SOCKET_IFNAME if set (as with PyTorch), loopback when every
     * rank is on this machine, else the local address that routes to the master (a host name that
     * resolves to 127.0.1.1, as on many Debian machines, would otherwise strand the other nodes).
     */
    static org.bytedeco.pytorch.gloo.Device device(DistEnv env) {
        String ifname = System.getenv("GLOO_SOCKET_IFNAME");
        if (ifname != null && !ifname.isBlank()) return ProcessGroupGloo.createDeviceForInterface(ifname.split(",")[0].trim());
        if (env.loopback()) return ProcessGroupGloo.createDeviceForHostname("127.0.0.1");
        try (DatagramSocket s = new DatagramSocket()) {
            s.connect(new InetSocketAddress(env.masterAddr(), env.masterPort()));
            return ProcessGroupGloo.createDeviceForHostname(s.getLocalAddress().getHostAddress());
        } catch (IOException e) {
            throw new UncheckedIOException("rank " + env.rank() + ": no route to the master " + env.masterAddr() + " (" + e.getMessage()
                    + "); set GLOO_SOCKET_IFNAME to the network interface to use", e);
        }
    }

    static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the other ranks", e);
        }
    }
}
