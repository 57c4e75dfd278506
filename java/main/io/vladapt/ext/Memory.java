package io.vladapt.ext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How much memory this process may still use: the kernel's MemAvailable, capped by the cgroup's limit
 * (memory.max minus memory.current), so that a model that cannot fit is refused with a message instead
 * of the process being killed by the kernel. {@code -Dvladapt.memory.limit=12g} (or VLADAPT_MEMORY_LIMIT)
 * replaces the reading: tests simulate a small machine with it.
 */
public final class Memory {
    private Memory() {}

    /** Bytes available, or Long.MAX_VALUE when nothing can be read (not Linux). */
    public static long available() {
        String given = System.getProperty("vladapt.memory.limit", System.getenv("VLADAPT_MEMORY_LIMIT"));
        if (given != null && !given.isBlank()) return parseBytes(given);
        long avail = meminfo("MemAvailable");
        long limit = cgroup("memory.max"), used = cgroup("memory.current");
        if (limit > 0 && used >= 0) avail = Math.min(avail, limit - used);
        return avail;
    }

    /** "12g", "512m", "1.5G", "2000000000". */
    public static long parseBytes(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        double scale = 1;
        char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
        if (last == 'b') {
            t = t.substring(0, t.length() - 1);
            last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
        }
        if (last == 'k' || last == 'm' || last == 'g' || last == 't') {
            scale = Math.pow(1024, "kmgt".indexOf(last) + 1);
            t = t.substring(0, t.length() - 1);
        }
        try {
            return (long) (Double.parseDouble(t) * scale);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("memory limit '" + s + "' is not a size (e.g. 12g, 512m)");
        }
    }

    /** "13.5 GB", or "48 MB" under a gigabyte. */
    public static String gb(long bytes) {
        return bytes >= 1e9 ? String.format(Locale.ROOT, "%.1f GB", bytes / 1e9) : String.format(Locale.ROOT, "%.0f MB", bytes / 1e6);
    }

    private static long meminfo(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith(key + ":")) {
                    String[] p = line.substring(key.length() + 1).trim().split("\\s+");
                    return Long.parseLong(p[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return Long.MAX_VALUE;
    }

    private static long cgroup(String file) {
        try {
            String v = Files.readString(Path.of("/sys/fs/cgroup", file)).trim();
            return v.equals("max") ? -1 : Long.parseLong(v);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
