package io.vladapt.nn;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Next-token cross-entropy where only some positions are supervised (LaVIN: the answer and EOS;
 * VPGTrans: the caption). The LM head runs on those rows alone: with a 32,000-word vocabulary the
 * head over every position of a 512-token batch would cost more than a transformer block, and all
 * but a few of its rows would be ignored. Logits are computed in the model's dtype, the softmax and
 * the mean in float32.
 */
public final class LmLoss {
    private LmLoss() {}

    /**
     * @param hidden (B, L, d) final-norm states ({@link LlamaModel.Output#lastHidden})
     * @param labels (B, L) int64: at position p the id that p must predict, -100 where unsupervised
     * @return the mean over supervised positions (NaN when there are none, as torch's mean over nothing)
     */
    public static Tensor crossEntropy(LlamaModel llm, Tensor hidden, Tensor labels) {
        // rows are found where the labels are (the CPU, as batches are built): no device sync, and it
        // works on the meta device too, where nonzero cannot run
        Tensor flat = labels.reshape(-1);                                                // (B*L)
        Tensor rows = flat.ne(new Scalar(-100)).nonzero().view(-1);                      // (n)
        Tensor targets = Tensors.onDeviceOf(flat.index_select(0, rows), hidden);
        Tensor h = hidden.reshape(-1, hidden.size(2)).index_select(0, Tensors.onDeviceOf(rows, hidden));  // (n, d)
        Tensor logits = llm.logits(h).to(ScalarType.Float);                              // (n, V)
        return torch.cross_entropy_loss(logits, targets, new TensorOptional(), 1, -100, 0.0);
    }
}
