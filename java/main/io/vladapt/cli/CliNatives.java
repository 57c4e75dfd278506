package io.vladapt.cli;

import io.vladapt.ext.Threads;
import io.vladapt.ext.VlOps;

/** What every command that runs tensors does first: load the natives, then set libtorch/OpenBLAS threads. */
final class CliNatives {
    private CliNatives() {}

    /** @param threads the --threads option, or null for every core */
    static void load(Integer threads) {
        VlOps.load();
        Threads.set(threads != null ? threads : Runtime.getRuntime().availableProcessors());
    }
}
