package io.vladapt.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The worker environment: what a launcher or scheduler sets, and the one-line errors when it is wrong. */
class DistributedEnvTest {
    @Test
    void noWorldSizeIsOneProcess() {
        assertSame(DistEnv.SINGLE, DistEnv.from(Map.of()));
        assertSame(DistEnv.SINGLE, DistEnv.from(Map.of("WORLD_SIZE", "1", "RANK", "0")));
        assertFalse(DistEnv.SINGLE.distributed());
    }

    @Test
    void torchrunStyleVariables() {
        DistEnv e = DistEnv.from(Map.of("WORLD_SIZE", "4", "RANK", "3", "LOCAL_RANK", "1", "MASTER_ADDR", "10.0.0.1", "MASTER_PORT",
                "29500", "VLADAPT_DIST_TIMEOUT", "2.5", "VLADAPT_AGENT_STORE", "1"));
        assertEquals(3, e.rank());
        assertEquals(4, e.worldSize());
        assertEquals(1, e.localRank());
        assertEquals(Duration.ofMillis(2500), e.timeout());
        assertTrue(e.agentStore());
        assertFalse(e.loopback(), "another machine's master: Gloo must not bind loopback");
        assertTrue(e.storeDescription().contains("10.0.0.1:29500"));
        DistEnv f = DistEnv.from(Map.of("WORLD_SIZE", "2", "RANK", "0", "VLADAPT_STORE_FILE", "/tmp/x"));
        assertEquals(Path.of("/tmp/x"), f.storeFile());
        assertEquals(DistEnv.DEFAULT_TIMEOUT, f.timeout());
        assertTrue(f.loopback());
    }

    @Test
    void wrongEnvironmentsAreNamed() {
        String m = assertThrows(IllegalArgumentException.class, () -> DistEnv.from(Map.of("WORLD_SIZE", "2", "RANK", "2",
                "VLADAPT_STORE_FILE", "/tmp/x"))).getMessage();
        assertTrue(m.contains("RANK 2 is outside 0..1"), m);
        m = assertThrows(IllegalArgumentException.class, () -> DistEnv.from(Map.of("WORLD_SIZE", "2", "RANK", "0"))).getMessage();
        assertTrue(m.contains("MASTER_ADDR"), m);
        m = assertThrows(IllegalArgumentException.class, () -> DistEnv.from(Map.of("WORLD_SIZE", "2"))).getMessage();
        assertTrue(m.contains("RANK is not set"), m);
        m = assertThrows(IllegalArgumentException.class, () -> DistEnv.from(Map.of("WORLD_SIZE", "two"))).getMessage();
        assertTrue(m.contains("WORLD_SIZE must be an integer"), m);
    }

    @Test
    void glooErrorsLoseTheirBuildPathsAndStackTraces() {
        RuntimeException e = new RuntimeException("[/home/runner/work/javacpp-presets/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:547] "
                + "Connection closed by peer [127.0.0.1]:37587\nException raised from ... frame #0: ...");
        assertEquals("[pair.cc:547] Connection closed by peer [127.0.0.1]:37587", RankFailure.firstLine(e));
    }
}
