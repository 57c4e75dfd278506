package io.vladapt.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code vladapt} command line. */
@Command(name = "vladapt", mixinStandardHelpOptions = true, version = "vladapt 0.1.0",
        description = "Vision for LLMs on the JVM: LaVIN's Mixture-of-Modality Adaptation and VPGTrans over libtorch.",
        subcommands = {DemoCommand.class, MmaCommand.class, VpgTransCommand.class, ServeCommand.class, ForwardCommand.class, GenerateCommand.class, QuantizeCommand.class, BenchCommand.class,
                LaunchCommand.class})
public final class Main implements Runnable {
    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        // JavaCPP refuses allocations once RSS passes a limit tied to -Xmx (about 2-4x the heap), which a
        // multi-GB checkpoint crosses although its tensors are freed deterministically: no limit here
        if (System.getProperty("org.bytedeco.javacpp.maxPhysicalBytes") == null) {
            System.setProperty("org.bytedeco.javacpp.maxPhysicalBytes", "0");
        }
        System.exit(commandLine(args).execute(args));
    }

    /**
     * The command line with VLAdapt's error handling: bad input (a malformed file, a wrong option
     * value) prints one line naming the problem and exits 2; VLADAPT_DEBUG=1 shows the stack trace.
     */
    public static CommandLine commandLine(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setDefaultValueProvider(ConfigDefaults.from(args));
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            boolean userError = e instanceof IllegalArgumentException || e instanceof java.io.UncheckedIOException
                    || e instanceof java.io.IOException || e instanceof IllegalStateException;
            if (!userError || System.getenv("VLADAPT_DEBUG") != null) e.printStackTrace();
            else cmd.getErr().println("vladapt " + cmd.getCommandName() + ": " + e.getMessage());
            return userError ? 2 : 1;
        });
        return cl;
    }
}
