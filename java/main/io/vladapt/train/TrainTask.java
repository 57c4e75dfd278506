package io.vladapt.train;

import io.vladapt.nn.Params;
import java.io.IOException;
import java.nio.file.Path;
import org.bytedeco.pytorch.Tensor;

/** What the trainer needs from a model: examples by index, a loss, the trainable tensors and their files. */
public interface TrainTask {
    /** Number of training examples. */
    int size();

    /** Mean loss of a micro-batch of examples (autograd graph attached). */
    Tensor loss(int[] examples);

    /** The tensors that train (require grad). */
    Params trainable();

    /** Writes the trainable tensors (and what is needed to rebuild them) into a checkpoint folder. */
    void save(Path dir) throws IOException;

    /** Loads the trainable tensors back from a checkpoint folder. */
    void load(Path dir);
}
