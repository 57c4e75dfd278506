package io.vladapt.vpg;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.eval.CiderD;
import io.vladapt.eval.VqaAccuracy;
import io.vladapt.io.AtomicFiles;
import io.vladapt.nn.GenerationConfig;
import io.vladapt.nn.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Zero-shot style evaluation of a VL model: captions generated from BOS alone and scored with
 * CIDEr-D against the references; VQA answers generated after "Question: {q} Answer:" (no BOS, see {@link VlDataset#vqaPromptIds}) and scored with
 * the official VQA accuracy. Decoding follows {@link VlDecoding#paper()} unless told otherwise (beam 5;
 * captions 8-30 new tokens, answers 1-10 with length penalty -1).
 */
public final class VlEval {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Scores in percent-like units: "cider" (x100, as papers print it) and "vqa" (percent). */
    public record Scores(double cider, double vqa, Map<String, String> captions, Map<String, String> answers) {
        public Map<String, Double> asMap() {
            Map<String, Double> m = new LinkedHashMap<>();
            if (!Double.isNaN(cider)) m.put("cider", cider);
            if (!Double.isNaN(vqa)) m.put("vqa", vqa);
            return m;
        }
    }

    private VlEval() {}

    /** With the paper's decoding ({@link VlDecoding#paper()}). */
    public static Scores run(VlModel m, Tensor features, VlDataset d, int batch) {
        return run(m, features, d, batch, VlDecoding.paper());
    }

    public static Scores run(VlModel m, Tensor features, VlDataset d, int batch, VlDecoding decoding) {
        Map<String, String> caps = new LinkedHashMap<>(), answers = new LinkedHashMap<>();
        double cider = Double.NaN, vqa = Double.NaN;
        GenerationConfig gc = decoding.captions(), ga = decoding.vqa();
        List<VlDataset.EvalImage> imgs = d.evalImages();
        for (int at = 0; at < imgs.size(); at += batch) {
            List<VlDataset.EvalImage> part = imgs.subList(at, Math.min(imgs.size(), at + batch));
            List<long[]> prompts = new ArrayList<>();
            for (int i = 0; i < part.size(); i++) prompts.add(new long[] {m.tokenizer().bosId()});
            List<long[]> out = generate(m, features, part.stream().mapToLong(VlDataset.EvalImage::image).toArray(), prompts, gc);
            for (int i = 0; i < part.size(); i++) caps.put(part.get(i).id(), m.tokenizer().decode(out.get(i)).strip());
        }
        if (!imgs.isEmpty()) {
            Map<String, List<String>> refs = new LinkedHashMap<>();
            for (VlDataset.EvalImage e : imgs) refs.put(e.id(), e.references());
            cider = 100 * CiderD.scoreRaw(refs, caps).score();
        }
        List<VlDataset.EvalQuestion> qs = d.evalQuestions();
        for (int at = 0; at < qs.size(); at += batch) {
            List<VlDataset.EvalQuestion> part = qs.subList(at, Math.min(qs.size(), at + batch));
            List<long[]> prompts = new ArrayList<>();
            for (VlDataset.EvalQuestion q : part) prompts.add(VlDataset.vqaPromptIds(m.tokenizer(), q.question()));
            List<long[]> out = generate(m, features, part.stream().mapToLong(VlDataset.EvalQuestion::image).toArray(), prompts, ga);
            for (int i = 0; i < part.size(); i++) answers.put(part.get(i).truth().questionId(), m.tokenizer().decode(out.get(i)).strip());
        }
        if (!qs.isEmpty()) vqa = VqaAccuracy.score(qs.stream().map(VlDataset.EvalQuestion::truth).toList(), answers).overall();
        return new Scores(cider, vqa, caps, answers);
    }

    private static List<long[]> generate(VlModel m, Tensor features, long[] rows, List<long[]> prompts, GenerationConfig g) {
        try (PointerScope s = new PointerScope()) {
            return m.generate(features.index_select(0, Tensors.longs(rows)), prompts, g);
        }
    }

    /** COCO-format caption results and VQA-format answers with the scores, one JSON file (the paper's decoding). */
    public static void write(Scores s, Path json) throws IOException {
        write(s, VlDecoding.paper(), json);
    }

    /** COCO-format caption results and VQA-format answers with the scores and the decoding that made them, one JSON file. */
    public static void write(Scores s, VlDecoding decoding, Path json) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("cider", s.cider());
        root.put("vqa_accuracy", s.vqa());
        root.put("decoding", decoding.describe());
        ArrayNode caps = root.putArray("captions");
        s.captions().forEach((id, c) -> caps.addObject().put("image_id", Long.parseLong(id)).put("caption", c));
        ArrayNode ans = root.putArray("answers");
        s.answers().forEach((id, a) -> ans.addObject().put("question_id", Long.parseLong(id)).put("answer", a));
        AtomicFiles.writeString(json, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
    }
}
