package io.vladapt.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Activation checkpointing for a chain of frozen blocks, without autograd hooks (the presets expose
 * no custom autograd Function): the forward pass runs the blocks with no graph and keeps only each
 * block's input and the random-generator state it started with (dropout); the backward pass walks
 * the chain from the top, recomputes one block at a time with a graph, backpropagates the incoming
 * gradient through it (trainable tensors inside, such as adapters, accumulate their gradients) and
 * hands the gradient of its input to the block below. Peak memory is the stored inputs plus one
 * block's graph, instead of every block's graph.
 *
 * <p>Because each block sees the same input and the same generator state twice, the result equals
 * the un-checkpointed computation (same dropout masks, same numbers on CPU); the generator is left
 * where the forward pass left it.
 */
public final class ActivationCheckpoint implements AutoCloseable {
    /** Block i: (B, T, d) -> (B, T, d). */
    @FunctionalInterface
    public interface Block {
        Tensor apply(int i, Tensor h);
    }

    /** Receives each block's output during the forward pass (no graph; retain what you keep). */
    @FunctionalInterface
    public interface Observer {
        void output(int i, Tensor h);
    }

    private final Block block;
    private final List<Tensor> inputs = new ArrayList<>();
    private final List<Tensor> rngStates = new ArrayList<>();
    private Tensor output;
    private Tensor rngAfter;

    private ActivationCheckpoint(Block block) {
        this.block = block;
    }

    /** Runs blocks 0..n-1 on h0 without a graph. */
    public static ActivationCheckpoint forward(Tensor h0, int n, Block block, Observer observer) {
        ActivationCheckpoint c = new ActivationCheckpoint(block);
        try (NoGradGuard ng = new NoGradGuard()) {
            Tensor h = h0.detach().retainReference();
            for (int i = 0; i < n; i++) {
                c.inputs.add(h);
                c.rngStates.add(rngState().retainReference());
                try (PointerScope scope = new PointerScope()) {
                    Tensor out = block.apply(i, h);
                    if (observer != null) observer.output(i, out);
                    scope.detach(out.retainReference());
                    h = out;
                }
            }
            c.output = h;
            c.rngAfter = rngState().retainReference();
        }
        return c;
    }

    /** The last block's output (no graph). */
    public Tensor output() {
        return output;
    }

    /**
     * Backpropagates {@code gradOut} (the loss's gradient w.r.t. {@link #output()}) down the chain.
     *
     * @param extra an additional gradient for block i's output (a state read elsewhere, e.g. a [CLS]
     *              token that became a visual token), or null; may be null itself
     * @return the gradient w.r.t. the chain's input
     */
    public Tensor backward(Tensor gradOut, IntFunction<Tensor> extra) {
        Tensor g = gradOut;
        for (int i = inputs.size() - 1; i >= 0; i--) {
            Tensor e = extra == null ? null : extra.apply(i);
            if (e != null) g = g.add(e);
            Tensor next = new Tensor();                         // owned by the caller's scope
            try (PointerScope scope = new PointerScope()) {
                setRngState(rngStates.get(i));
                Tensor x = inputs.get(i).detach().set_requires_grad(true);
                Tensor y = block.apply(i, x);
                y.backward(g, new BoolOptional(), false, new TensorArrayRefOptional());
                next.put(x.grad());
            }
            if (g != gradOut) g.reset();                        // frees the block's input gradient now
            g = next;
        }
        setRngState(rngAfter);
        return g;
    }

    private static Tensor rngState() {
        return torch.getDefaultCPUGenerator().get_state();
    }

    private static void setRngState(Tensor state) {
        torch.getDefaultCPUGenerator().set_state(state);
    }

    @Override
    public void close() {
        for (Tensor t : inputs) t.releaseReference();
        for (Tensor t : rngStates) t.releaseReference();
        if (output != null) output.releaseReference();
        if (rngAfter != null) rngAfter.releaseReference();
        inputs.clear();
        rngStates.clear();
    }
}
