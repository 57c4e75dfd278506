package io.vladapt.mma;

import io.vladapt.data.ImagePipeline;
import io.vladapt.data.ScienceQa;
import io.vladapt.data.ScienceQaProblem;
import io.vladapt.data.ScienceQaPrompt;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * ScienceQA problems as MMA examples. A sample longer than the context ({@code maxSeqLen} positions,
 * modality token included) is skipped and counted, never cut: cutting drops the answer's tail or its
 * EOS (LaVIN truncates twice and loses them). Images are preprocessed once and kept.
 */
public final class MmaData implements AutoCloseable {
    private final List<MmaExample> examples = new ArrayList<>();
    private final List<ScienceQaProblem> problems = new ArrayList<>();
    private final List<String> prompts = new ArrayList<>();
    private int skippedTooLong;

    /**
     * @param withImages false: every sample as text-only ("Image: N/A"), the no-vision baseline
     * @param withAnswers false: prompts only (evaluation)
     */
    public static MmaData scienceQa(ScienceQa sqa, String split, MmaModel model, ScienceQaPrompt format, ImagePipeline pipe,
                                    int maxSeqLen, boolean withImages, boolean withAnswers, int generationBudget) {
        return scienceQa(sqa, split, model, format, pipe, maxSeqLen, withImages, withAnswers, generationBudget, false);
    }

    /**
     * As above; with {@code captionsAsImage}, text-only samples of image problems read their caption
     * after "Image:" where the visual tokens would go (a reference for what the LM can do with a
     * perfect description of the image).
     */
    public static MmaData scienceQa(ScienceQa sqa, String split, MmaModel model, ScienceQaPrompt format, ImagePipeline pipe,
                                    int maxSeqLen, boolean withImages, boolean withAnswers, int generationBudget,
                                    boolean captionsAsImage) {
        MmaData d = new MmaData();
        for (ScienceQaProblem p : sqa.split(split)) {
            String prompt = format.input(p, sqa.caption(p.pid()));
            boolean image = withImages && p.hasImage();
            String described = captionsAsImage && p.hasImage() ? sqa.caption(p.pid()) : null;
            MmaModel.Encoded enc = model.encode(prompt, withAnswers ? format.target(p) : null, image, described);
            if (1 + enc.ids().length + (withAnswers ? 0 : generationBudget) > maxSeqLen) {
                d.skippedTooLong++;
                continue;
            }
            Tensor img = null;
            if (image) {
                try (PointerScope scope = new PointerScope()) {
                    img = pipe.load(sqa.imagePath(p)).retainReference();
                }
            }
            d.examples.add(new MmaExample(enc, img));
            d.problems.add(p);
            d.prompts.add(prompt);
        }
        return d;
    }

    /** Alpaca / LLaVA samples as MMA examples (answers supervised); too-long samples are counted and skipped. */
    public static MmaData instructions(List<io.vladapt.data.InstructionData.Sample> samples, MmaModel model, ImagePipeline pipe,
                                       int maxSeqLen) {
        MmaData d = new MmaData();
        for (io.vladapt.data.InstructionData.Sample s : samples) {
            MmaModel.Encoded enc = model.encode(s.prompt(), s.answer(), s.image() != null);
            if (1 + enc.ids().length > maxSeqLen) {
                d.skippedTooLong++;
                continue;
            }
            Tensor img = null;
            if (s.image() != null) {
                try (PointerScope scope = new PointerScope()) {
                    img = pipe.load(s.image()).retainReference();
                }
            }
            d.examples.add(new MmaExample(enc, img));
            d.prompts.add(s.prompt());
        }
        return d;
    }

    /** Appends another source's examples (they are then owned and closed here). */
    public MmaData addAll(MmaData other) {
        examples.addAll(other.examples);
        prompts.addAll(other.prompts);
        problems.addAll(other.problems);
        skippedTooLong += other.skippedTooLong;
        other.examples.clear();
        return this;
    }

    public List<MmaExample> examples() {
        return examples;
    }

    public List<ScienceQaProblem> problems() {
        return problems;
    }

    public List<String> prompts() {
        return prompts;
    }

    /** Samples left out because they did not fit the context. */
    public int skippedTooLong() {
        return skippedTooLong;
    }

    @Override
    public void close() {
        for (MmaExample e : examples) if (e.image() != null) e.image().releaseReference();
        examples.clear();
    }
}
