package io.vladapt.vpg;

import io.vladapt.data.CocoCaptions;
import io.vladapt.data.VqaDataset;
import io.vladapt.eval.VqaAccuracy;
import io.vladapt.io.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What VPGTrans trains and evaluates on, read from the files users have: COCO captions in Karpathy's
 * dataset_coco.json and VQA v2 question/annotation files. Images are numbered once (the rows of the
 * feature cache); training text becomes {@link VlExample}s per tokenizer; evaluation keeps the raw
 * references and the ten human answers.
 */
public final class VlDataset {
    /** Where the files are; VQA files may be null (captions only). */
    public record Files(Path cocoJson, Path imageRoot, String trainSplit, boolean restvalAsTrain, String evalSplit, Path vqaTrainQuestions,
                        Path vqaTrainAnnotations, Path vqaTrainImages, Path vqaEvalQuestions, Path vqaEvalAnnotations, Path vqaEvalImages) {}

    public record Caption(int image, String text) {}

    public record Qa(int image, String question, String answer) {}

    public record EvalImage(int image, String id, List<String> references) {}

    public record EvalQuestion(int image, String question, VqaAccuracy.Question truth) {}

    private final List<Path> images = new ArrayList<>();
    private final Map<Path, Integer> index = new LinkedHashMap<>();
    final List<Caption> trainCaptions = new ArrayList<>();
    final List<Qa> trainQa = new ArrayList<>();
    final List<EvalImage> evalImages = new ArrayList<>();
    final List<EvalQuestion> evalQuestions = new ArrayList<>();

    private int image(Path p) {
        Path k = p.toAbsolutePath().normalize();
        return index.computeIfAbsent(k, x -> {
            images.add(x);
            return images.size() - 1;
        });
    }

    /**
     * Reads the files. VQA evaluation keeps only the questions on the caption evaluation images when
     * {@code vqaOnEvalImagesOnly} (COCO's val2014 also holds Karpathy's train-able restval images).
     */
    public static VlDataset load(Files f, boolean vqaOnEvalImagesOnly) {
        VlDataset d = new VlDataset();
        CocoCaptions coco = CocoCaptions.load(f.cocoJson(), f.imageRoot());
        for (CocoCaptions.Item it : coco.split(f.trainSplit(), f.restvalAsTrain())) {
            int i = d.image(it.image());
            for (String c : it.captions()) d.trainCaptions.add(new Caption(i, c));
        }
        Set<Integer> evalSet = new HashSet<>();
        for (CocoCaptions.Item it : coco.split(f.evalSplit(), false)) {
            int i = d.image(it.image());
            evalSet.add(i);
            d.evalImages.add(new EvalImage(i, Long.toString(it.cocoid()), it.captions()));
        }
        if (f.vqaTrainQuestions() != null) {
            for (VqaDataset.Entry e : VqaDataset.load(f.vqaTrainQuestions(), f.vqaTrainAnnotations(), f.vqaTrainImages())) {
                d.trainQa.add(new Qa(d.image(e.image()), e.question().question(), e.annotation().multipleChoiceAnswer()));
            }
        }
        if (f.vqaEvalQuestions() != null) {
            for (VqaDataset.Entry e : VqaDataset.load(f.vqaEvalQuestions(), f.vqaEvalAnnotations(), f.vqaEvalImages())) {
                int i = d.image(e.image());
                if (vqaOnEvalImagesOnly && !evalSet.contains(i)) continue;
                VqaDataset.Annotation a = e.annotation();
                d.evalQuestions.add(new EvalQuestion(i, e.question().question(), new VqaAccuracy.Question(Long.toString(a.questionId()),
                        a.answerStrings(), a.questionType(), a.answerType())));
            }
        }
        return d;
    }

    /** Every image file, in feature-cache row order. */
    public List<Path> images() {
        return List.copyOf(images);
    }

    public List<EvalImage> evalImages() {
        return evalImages;
    }

    public List<EvalQuestion> evalQuestions() {
        return evalQuestions;
    }

    public List<Caption> trainCaptions() {
        return trainCaptions;
    }

    public List<Qa> trainQa() {
        return trainQa;
    }

    /** The VQA prompt VPGTrans uses for OPT and LLaMA. */
    public static String vqaPrompt(String question) {
        return "Question: " + question + " Answer:";
    }

    /**
     * The VQA prompt's ids, without BOS: {@code [soft prompts] Question: ... Answer:}. A caption is
     * {@code [soft prompts][BOS] caption}, so BOS alone asks for a caption and a frozen LM that knows both
     * formats never has to guess which one is wanted (with BOS before both, a small LM starts captions
     * with "Question" half the time: measured while building the demo).
     */
    public static long[] vqaPromptIds(TextTokenizer tok, String question) {
        return tok.encode(vqaPrompt(question), false);
    }

    /** Captions score every token from BOS on; VQA (when trained) scores the answer and EOS. */
    public List<VlExample> trainExamples(TextTokenizer tok) {
        List<VlExample> out = new ArrayList<>();
        for (Caption c : trainCaptions) out.add(new VlExample(c.image(), withEos(tok.encode(c.text(), true), tok), 0));
        for (Qa q : trainQa) {
            long[] p = vqaPromptIds(tok, q.question()), a = tok.encode(q.answer(), false);
            long[] ids = new long[p.length + a.length];
            System.arraycopy(p, 0, ids, 0, p.length);
            System.arraycopy(a, 0, ids, p.length, a.length);
            out.add(new VlExample(q.image(), withEos(ids, tok), p.length));
        }
        return out;
    }

    static long[] withEos(long[] ids, TextTokenizer tok) {
        long[] out = java.util.Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = tok.eosId();
        return out;
    }
}
