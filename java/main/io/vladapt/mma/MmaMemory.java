package io.vladapt.mma;

import io.vladapt.ext.Precision;
import io.vladapt.nn.ClipVisionConfig;
import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.MemoryPlan;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Memory plans for LaVIN runs, from the configs alone: frozen weights, adapters with their AdamW
 * moments and gradients, and training activations with or without checkpointing. The per-token
 * activation sizes are counted from the tensors autograd keeps (below), not fitted to measurements:
 * one real-scale run (LLaMA-7B + ViT-L/14, bf16, batch 4 x 512, checkpointing) planned 15.9 GB and
 * was seen at 17.9 GB RSS mid-run, so treat a plan as a floor (README, real-scale checks).
 */
public final class MmaMemory {
    /**
     * Bytes kept for backward per token and LLM block, in units of the width d and the FFN width at
     * the compute dtype's size: the adapter's and the attention's inputs and outputs, q/k/v after RoPE,
     * the MLP's gate, up and product (PyTorch's linear saves its input even when the weight is frozen),
     * plus the float32 copies the two RMSNorms keep.
     */
    static final double ACT_D = 14, ACT_FFN = 4, ACT_F32_D = 4;

    private MmaMemory() {}

    /** Chat or evaluation: weights, a KV cache for batch x positions, one pass's transients. */
    public static MemoryPlan inference(LlamaConfig l, ClipVisionConfig v, ScalarType t, int batch, int positions) {
        return new MemoryPlan(Precision.name(t)).add("LLM weights", MemoryPlan.llmWeights(l, t)).add("ViT weights", MemoryPlan.vitWeights(v, t))
                .add("KV cache", MemoryPlan.kvCache(l, batch, positions, t)).add("activations", MemoryPlan.forwardPass(l, batch, positions, t));
    }

    /** One micro-batch of training (batch x seqLen positions, every sample with an image: the worst case). */
    public static MemoryPlan training(LlamaConfig l, ClipVisionConfig v, ScalarType t, int batch, int seqLen, boolean checkpointing) {
        int s = MemoryPlan.bytes(t);
        long tokens = (long) batch * seqLen, d = l.hiddenSize();
        long vitTokens = (long) batch * ((long) (v.imageSize() / v.patchSize()) * (v.imageSize() / v.patchSize()) + 1);
        double perLlmBlock = tokens * (ACT_D * d * s + ACT_FFN * l.intermediateSize() * s + ACT_F32_D * d * 4)
                + (double) batch * l.numHeads() * seqLen * seqLen * s;                  // attention weights (math path)
        double perVitBlock = vitTokens * (ACT_D * v.hiddenSize() * s + ACT_FFN * v.intermediateSize() * s + ACT_F32_D * v.hiddenSize() * 4)
                + (double) batch * v.numHeads() * Math.pow(vitTokens / (double) batch, 2) * s;
        long activations;
        if (checkpointing) {
            // every block's input, plus one block's graph while it is recomputed
            activations = tokens * d * s * l.numLayers() + vitTokens * v.hiddenSize() * s * v.numLayers()
                    + (long) Math.max(perLlmBlock, perVitBlock);
        } else {
            activations = (long) (perLlmBlock * l.numLayers() + perVitBlock * v.numLayers());
        }
        long head = tokens * l.vocabSize() * 4L / 4;                                   // supervised rows' logits (a quarter, generously)
        MmaConfig c = new MmaConfig(l.numLayers(), l.hiddenSize(), v.numLayers(), v.hiddenSize(), 8, new AdapterSettings(2, 1, 10, 0.1),
                new AdapterSettings(2, 1, 10, 0.1), 128, Math.min(6, v.numLayers()), false);
        long adapters = MmaAdapters.count(c) * 4L * 4;                                  // weights, gradients, two AdamW moments
        String label = Precision.name(t) + (checkpointing ? " with activation checkpointing" : "");
        return new MemoryPlan(label).add("LLM weights", MemoryPlan.llmWeights(l, t)).add("ViT weights", MemoryPlan.vitWeights(v, t))
                .add("activations", activations + head).add("adapters + AdamW", adapters);
    }

    /**
     * Decides whether training needs activation checkpointing ({@code mode} "auto": only when the plain
     * plan does not fit) and refuses a run that fits in no way, naming what would.
     *
     * @return whether to checkpoint
     */
    public static boolean checkTraining(LlamaConfig l, ClipVisionConfig v, ScalarType t, int batch, int seqLen, String mode) {
        boolean on = mode.equals("on"), auto = mode.equals("auto");
        if (!on && !auto && !mode.equals("off")) throw new IllegalArgumentException("--checkpointing must be auto, on or off, got " + mode);
        MemoryPlan plain = training(l, v, t, batch, seqLen, false), ckpt = training(l, v, t, batch, seqLen, true);
        if (auto && plain.total() <= io.vladapt.ext.Memory.available()) return false;
        MemoryPlan chosen = on || auto ? ckpt : plain;
        List<MemoryPlan> alternatives = new ArrayList<>();
        if (!on && !auto) alternatives.add(relabel(ckpt, "--checkpointing on"));
        for (ScalarType other : new ScalarType[] {ScalarType.BFloat16, ScalarType.Half}) {
            if (other != t && MemoryPlan.bytes(other) < MemoryPlan.bytes(t)) {
                alternatives.add(relabel(training(l, v, other, batch, seqLen, true), "--dtype " + Precision.name(other) + " (with checkpointing)"));
            }
        }
        for (int b = batch / 2; b >= 1; b /= 2) alternatives.add(relabel(training(l, v, t, b, seqLen, true), "--batch " + b + " (with checkpointing)"));
        MemoryPlan.require("mma train", chosen, alternatives);
        if (auto) System.err.println("vladapt: activation checkpointing on (training needs " + plain.describe() + " without it, "
                + ckpt.describe() + " with it)");
        return true;
    }

    /** Inference plan check: refuses with the dtype that would fit. */
    public static void checkInference(String what, LlamaConfig l, ClipVisionConfig v, ScalarType t, int batch, int positions) {
        List<MemoryPlan> alternatives = new ArrayList<>();
        for (ScalarType other : new ScalarType[] {ScalarType.BFloat16, ScalarType.Half}) {
            if (MemoryPlan.bytes(other) < MemoryPlan.bytes(t)) {
                alternatives.add(relabel(inference(l, v, other, batch, positions), "--dtype " + Precision.name(other)));
            }
        }
        MemoryPlan.require(what, inference(l, v, t, batch, positions), alternatives);
    }

    private static MemoryPlan relabel(MemoryPlan p, String label) {
        MemoryPlan r = new MemoryPlan(label);
        p.parts().forEach(r::add);
        return r;
    }
}
