package io.vladapt.train;

import io.vladapt.nn.Params;
import java.io.IOException;
import java.nio.file.Path;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/** What the trainer needs from a model: examples by index, a loss, the trainable tensors and their files. */
public interface TrainTask {
    /** Number of training examples. */
    int size();

    /** Mean loss of a micro-batch of examples (autograd graph attached). */
    Tensor loss(int[] examples);

    /**
     * The micro-batch's loss, and the gradients of loss / scale accumulated into the trainable
     * tensors. Tasks that recompute activations in backward (activation checkpointing) override it.
     *
     * @return the loss value (not finite: nothing was accumulated)
     */
    default double lossAndBackward(int[] examples, double scale) {
        Tensor loss = loss(examples);
        double v = loss.item_double();
        if (Double.isFinite(v)) loss.div(new Scalar(scale)).backward();
        return v;
    }

    /** The tensors that train (require grad). */
    Params trainable();

    /** Writes the trainable tensors (and what is needed to rebuild them) into a checkpoint folder. */
    void save(Path dir) throws IOException;

    /** Loads the trainable tensors back from a checkpoint folder. */
    void load(Path dir);
}
