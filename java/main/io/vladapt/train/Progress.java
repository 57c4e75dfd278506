package io.vladapt.train;

import java.io.PrintStream;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of long work: a live bar on an interactive terminal, and in logs (CI, pipes) one line
 * per tenth of the work instead of a stream of carriage returns.
 */
public final class Progress implements AutoCloseable {
    private final ProgressBar bar;
    private final PrintStream log;
    private final String task;
    private final long total;
    private long done;
    private int reportedTenths;
    private String message = "";

    private Progress(String task, long total, long done, boolean quiet) {
        this.task = task;
        this.total = total;
        this.done = done;
        boolean tty = System.console() != null;
        this.bar = quiet || !tty ? null : new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
                .startsFrom(done, java.time.Duration.ZERO).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500)
                .continuousUpdate().build();
        this.log = quiet || tty ? null : System.err;
        this.reportedTenths = total == 0 ? 10 : (int) (10 * done / total);
    }

    public static Progress start(String task, long total, long done, boolean quiet) {
        return new Progress(task, total, done, quiet);
    }

    public void step(long n, String extra) {
        done += n;
        message = extra;
        if (bar != null) {
            bar.stepBy(n);
            bar.setExtraMessage(extra);
        } else if (log != null && total > 0 && 10 * done / total > reportedTenths) {
            reportedTenths = (int) (10 * done / total);
            log.printf("%s %3d%% (%d/%d)%s%n", task, 100 * done / total, done, total, message);
        }
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
