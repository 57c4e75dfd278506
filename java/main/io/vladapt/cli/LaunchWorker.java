package io.vladapt.cli;

import io.vladapt.dist.ProcessGroupContext;

/**
 * A worker started by {@code vladapt launch}: joins the process group first (so ranks meet within
 * seconds of starting and a missing one is named, instead of after each has prepared its data), then
 * runs the command as {@code vladapt} would.
 */
public final class LaunchWorker {
    private LaunchWorker() {}

    public static void main(String[] args) {
        try {
            ProcessGroupContext.current();
        } catch (IllegalStateException | IllegalArgumentException | java.io.UncheckedIOException e) {
            if (System.getenv("VLADAPT_DEBUG") != null) e.printStackTrace();
            else System.err.println("vladapt: " + e.getMessage());
            System.exit(2);
        }
        Main.main(args);
    }
}
