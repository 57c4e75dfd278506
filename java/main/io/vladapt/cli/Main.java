package io.vladapt.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code vladapt} command line. */
@Command(name = "vladapt", mixinStandardHelpOptions = true, version = "vladapt 0.1.0",
        description = "Vision for LLMs on the JVM: LaVIN's Mixture-of-Modality Adaptation and VPGTrans over libtorch.",
        subcommands = {BenchCommand.class})
public final class Main implements Runnable {
    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }
}
