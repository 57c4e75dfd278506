package io.vladapt.ext;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The C library's setenv, for settings that native libraries read once when they load (libgomp
 * reads OMP_WAIT_POLICY at load time, before any Java code could pass it otherwise).
 */
@Platform(include = "<stdlib.h>")
public final class NativeEnv {
    static {
        Loader.load();
    }

    private NativeEnv() {}

    /** POSIX setenv: with overwrite = 0 an existing value is kept. Returns 0 on success. */
    public static native int setenv(String name, String value, int overwrite);
}
