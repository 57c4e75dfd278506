package io.vladapt.vpg;

import io.vladapt.nn.GenerationConfig;

/**
 * How {@link VlEval} decodes: one setting for captions (from BOS after the soft prompts) and one for
 * VQA answers (after "Question: {q} Answer:").
 */
public record VlDecoding(GenerationConfig captions, GenerationConfig vqa) {
    /**
     * The zero-shot protocol VPGTrans evaluates with (BLIP-2's, ../spec/vpgtrans.md section 5):
     * captions by beam search with 5 beams, 8 to 30 new tokens, length penalty 1 (LAVIS
     * {@code caption_coco_opt2.7b_eval.yaml}: num_beams 5, min_len 8, max_len 30); VQA answers by
     * 5 beams, 1 to 10 new tokens, length penalty -1 (LAVIS {@code vqav2_zeroshot_opt_eval.yaml}:
     * num_beams 5, min_len 1, max_len 10; length_penalty -1 as VPGTrans' VQA evaluation).
     */
    public static VlDecoding paper() {
        return new VlDecoding(GenerationConfig.beams(5, 1.0, 8, 30), GenerationConfig.beams(5, -1.0, 1, 10));
    }

    /** Greedy captions up to 30 tokens and answers up to 10 (VLAdapt's evaluation before beam search). */
    public static VlDecoding greedy() {
        return new VlDecoding(GenerationConfig.greedy(30), GenerationConfig.greedy(10));
    }

    /**
     * Both settings with the given values replaced (null keeps a value): beams, length penalty,
     * min and max new tokens, no-repeat n-gram size. A min over the new max becomes the max.
     */
    public VlDecoding with(Integer beams, Double lengthPenalty, Integer minNew, Integer maxNew, Integer noRepeat) {
        return new VlDecoding(with(captions, beams, lengthPenalty, minNew, maxNew, noRepeat), with(vqa, beams, lengthPenalty, minNew, maxNew, noRepeat));
    }

    private static GenerationConfig with(GenerationConfig g, Integer beams, Double lp, Integer minNew, Integer maxNew, Integer noRepeat) {
        int max = maxNew != null ? maxNew : g.maxNewTokens();
        int min = minNew != null ? minNew : Math.min(g.minNewTokens(), max);
        GenerationConfig r = g.withLengths(min, max);
        if (beams != null || lp != null) r = r.withBeams(beams != null ? beams : g.numBeams(), lp != null ? lp : g.lengthPenalty());
        if (noRepeat != null) r = r.withNoRepeatNgram(noRepeat);
        return r;
    }

    /** One line for logs and eval.json. */
    public String describe() {
        return "captions from BOS: " + captions.describe() + "; answers after 'Question: {q} Answer:': " + vqa.describe();
    }
}
