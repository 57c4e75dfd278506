package io.vladapt.train;

import io.vladapt.ext.Threads;
import io.vladapt.nn.Params;
import java.io.IOException;
import java.nio.file.Path;
import org.bytedeco.pytorch.Tensor;

/**
 * A training worker for the multi-process tests: the linear-regression task (with dropout) under the
 * Trainer, configured from the arguments, rank and world from the environment.
 *
 * <pre>
 * DistWorker OUT EXAMPLES BATCH ACCUM EPOCHS CHECKPOINT_EVERY STOP_AFTER RESUME SLEEP_MS [CRASH_RANK CRASH_AT_MICRO]
 * </pre>
 *
 * SLEEP_MS slows every micro-batch so a test can act mid-run; CRASH_RANK halts at its micro-batch
 * CRASH_AT_MICRO as a crashed JVM would.
 */
public final class DistWorker {
    private DistWorker() {}

    static final long DATA_SEED = 5;

    static TrainConfig config(Path out, int batch, int accum, int epochs, int every) {
        return new TrainConfig(epochs, batch, accum, 0.5, 0.5, 0.02, 0, 13, every, 50, out, true);
    }

    public static void main(String[] a) throws IOException {
        Threads.set(1);
        int crashRank = a.length > 9 ? Integer.parseInt(a[9]) : -1, crashAt = a.length > 10 ? Integer.parseInt(a[10]) : -1;
        long sleep = Long.parseLong(a[8]);
        try (LinearRegressionTask lin = new LinearRegressionTask(Integer.parseInt(a[1]), DATA_SEED)) {
            TrainConfig cfg = config(Path.of(a[0]), Integer.parseInt(a[2]), Integer.parseInt(a[3]), Integer.parseInt(a[4]),
                    Integer.parseInt(a[5]));
            int rank = DataParallel.current().rank();
            TrainTask task = new TrainTask() {
                int calls;

                @Override
                public int size() {
                    return lin.size();
                }

                @Override
                public Tensor loss(int[] examples) {
                    if (rank == crashRank && calls++ == crashAt) Runtime.getRuntime().halt(3);
                    if (sleep > 0) {
                        try {
                            Thread.sleep(sleep);
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                    return lin.loss(examples);
                }

                @Override
                public Params trainable() {
                    return lin.trainable();
                }

                @Override
                public void save(Path dir) throws IOException {
                    lin.save(dir);
                }

                @Override
                public void load(Path dir) {
                    lin.load(dir);
                }
            };
            new Trainer(task, cfg).run(Boolean.parseBoolean(a[7]), Long.parseLong(a[6]));
        } catch (IllegalStateException | IllegalArgumentException e) {
            System.err.println("worker: " + e.getMessage());
            System.exit(2);
        }
        System.exit(0);
    }
}
