package io.vladapt.mma;

import io.vladapt.ext.Precision;
import io.vladapt.nn.ClipVisionConfig;
import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.MemoryPlan;
import io.vladapt.quant.QuantScheme;
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
        return inference(l, v, t, Quant.NONE, batch, positions);
    }

    /**
     * How the frozen projections are held: the LLM's and the ViT's schemes (null: dense).
     * {@link io.vladapt.quant.QuantScheme} sizes are codes + scales + zero points.
     */
    public record Quant(QuantScheme llm, QuantScheme vit) {
        public static final Quant NONE = new Quant(null, null);

        String label(ScalarType t) {
            String s = Precision.name(t);
            if (llm != null) s += " with " + llm + " LLM weights";
            if (vit != null) s += (llm != null ? " and " : " with ") + vit + " ViT weights";
            return s;
        }

        Quant llm(QuantScheme q) {
            return new Quant(q, vit);
        }
    }

    /** As {@link #inference(LlamaConfig, ClipVisionConfig, ScalarType, int, int)} with quantised projections. */
    public static MemoryPlan inference(LlamaConfig l, ClipVisionConfig v, ScalarType t, Quant q, int batch, int positions) {
        return new MemoryPlan(q.label(t)).add("LLM weights", MemoryPlan.llmWeights(l, t, q.llm()))
                .add("ViT weights", MemoryPlan.vitWeights(v, t, q.vit()))
                .add("KV cache", MemoryPlan.kvCache(l, batch, positions, t)).add("activations", MemoryPlan.forwardPass(l, batch, positions, t));
    }

    /** One micro-batch of training (batch x seqLen positions, every sample with an image: the worst case). */
    public static MemoryPlan training(LlamaConfig l, ClipVisionConfig v, ScalarType t, int batch, int seqLen, boolean checkpointing) {
        return training(l, v, t, Quant.NONE, batch, seqLen, checkpointing);
    }

    /**
     * As {@link #training(LlamaConfig, ClipVisionConfig, ScalarType, int, int, boolean)} with quantised
     * projections: their input gradient runs through a dequantised copy in t that autograd keeps until
     * backward, so the plan adds every such copy without checkpointing, one block's with it.
     */
    public static MemoryPlan training(LlamaConfig l, ClipVisionConfig v, ScalarType t, Quant q, int batch, int seqLen, boolean checkpointing) {
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
        String label = q.label(t) + (checkpointing ? (q.llm() != null || q.vit() != null ? ", " : " with ") + "activation checkpointing" : "");
        long llmProj = q.llm() == null ? 0 : MemoryPlan.projections(io.vladapt.nn.LlamaModel.parameterShapes(l), t);
        long vitProj = q.vit() == null ? 0 : MemoryPlan.projections(io.vladapt.nn.ClipVisionModel.parameterShapes(v), t);
        long dequantised = checkpointing ? Math.max(llmProj / l.numLayers(), vitProj / v.numLayers()) : llmProj + vitProj;
        MemoryPlan p = new MemoryPlan(label).add("LLM weights", MemoryPlan.llmWeights(l, t, q.llm()))
                .add("ViT weights", MemoryPlan.vitWeights(v, t, q.vit())).add("activations", activations + head).add("adapters + AdamW", adapters);
        return dequantised > 0 ? p.add("dequantised weights for backward", dequantised) : p;
    }

    /**
     * Decides whether training needs activation checkpointing ({@code mode} "auto": only when the plain
     * plan does not fit) and refuses a run that fits in no way, naming what would.
     *
     * @return whether to checkpoint
     */
    public static boolean checkTraining(LlamaConfig l, ClipVisionConfig v, ScalarType t, int batch, int seqLen, String mode) {
        return checkTraining(l, v, t, Quant.NONE, batch, seqLen, mode);
    }

    /**
     * As {@link #checkTraining(LlamaConfig, ClipVisionConfig, ScalarType, int, int, String)} with quantised
     * projections. "auto" always checkpoints a quantised backbone: without it autograd would keep a
     * dequantised copy of every frozen weight, which undoes the quantisation.
     */
    public static boolean checkTraining(LlamaConfig l, ClipVisionConfig v, ScalarType t, Quant q, int batch, int seqLen, String mode) {
        boolean on = mode.equals("on"), auto = mode.equals("auto");
        if (!on && !auto && !mode.equals("off")) throw new IllegalArgumentException("--checkpointing must be auto, on or off, got " + mode);
        boolean quantised = q.llm() != null || q.vit() != null;
        MemoryPlan plain = training(l, v, t, q, batch, seqLen, false), ckpt = training(l, v, t, q, batch, seqLen, true);
        if (auto && !quantised && plain.total() <= io.vladapt.ext.Memory.available()) return false;
        MemoryPlan chosen = on || auto ? ckpt : plain;
        List<MemoryPlan> alternatives = new ArrayList<>();
        if (!on && !auto) alternatives.add(relabel(ckpt, "--checkpointing on"));
        for (ScalarType other : new ScalarType[] {ScalarType.BFloat16, ScalarType.Half}) {
            if (other != t && MemoryPlan.bytes(other) < MemoryPlan.bytes(t)) {
                alternatives.add(relabel(training(l, v, other, q, batch, seqLen, true), "--dtype " + Precision.name(other) + " (with checkpointing)"));
            }
        }
        for (QuantScheme s : MemoryPlan.smallerSchemes(io.vladapt.nn.LlamaModel.parameterShapes(l), q.llm())) {
            alternatives.add(relabel(training(l, v, t, q.llm(s), batch, seqLen, true), MemoryPlan.option(s) + " (with checkpointing)"));
        }
        for (int b = batch / 2; b >= 1; b /= 2) alternatives.add(relabel(training(l, v, t, q, b, seqLen, true), "--batch " + b + " (with checkpointing)"));
        MemoryPlan.require("mma train", chosen, alternatives);
        if (auto) System.err.println("vladapt: activation checkpointing on (training needs " + plain.describe() + " without it, "
                + ckpt.describe() + " with it" + (quantised ? "; always on for quantised weights" : "") + ")");
        return true;
    }

    /** Inference plan check: refuses with the dtype that would fit. */
    public static void checkInference(String what, LlamaConfig l, ClipVisionConfig v, ScalarType t, int batch, int positions) {
        checkInference(what, l, v, t, Quant.NONE, batch, positions);
    }

    /** Inference plan check with quantised projections: refuses naming a smaller dtype, else a --quantize scheme, that fits. */
    public static void checkInference(String what, LlamaConfig l, ClipVisionConfig v, ScalarType t, Quant q, int batch, int positions) {
        List<MemoryPlan> alternatives = new ArrayList<>();
        for (ScalarType other : new ScalarType[] {ScalarType.BFloat16, ScalarType.Half}) {
            if (MemoryPlan.bytes(other) < MemoryPlan.bytes(t)) {
                alternatives.add(relabel(inference(l, v, other, q, batch, positions), "--dtype " + Precision.name(other)));
            }
        }
        for (QuantScheme s : MemoryPlan.smallerSchemes(io.vladapt.nn.LlamaModel.parameterShapes(l), q.llm())) {
            alternatives.add(relabel(inference(l, v, t, q.llm(s), batch, positions), MemoryPlan.option(s)));
        }
        MemoryPlan.require(what, inference(l, v, t, q, batch, positions), alternatives);
    }

    private static MemoryPlan relabel(MemoryPlan p, String label) {
        return MemoryPlan.relabel(p, label);
    }
}
