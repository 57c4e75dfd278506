package io.vladapt.mma;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.data.ScienceQaProblem;
import io.vladapt.eval.AnswerParser;
import io.vladapt.eval.ScienceQaScore;
import io.vladapt.io.AtomicFiles;
import io.vladapt.nn.GenerationConfig;
import io.vladapt.train.Progress;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** ScienceQA evaluation of an MMA model: generate, parse "The answer is X.", score by category. */
public final class MmaEval {
    private MmaEval() {}

    /** Per-problem outputs, predictions and the category table. */
    public record Result(List<ScienceQaProblem> problems, List<String> outputs, int[] predicted,
                         Map<String, ScienceQaScore.Cell> table, int skippedTooLong, double seconds) {}

    public static Result run(MmaModel model, MmaData data, GenerationConfig g, int batchSize, boolean merged,
                             AnswerParser parser, boolean quiet) {
        long t0 = System.nanoTime();
        List<String> outputs = new ArrayList<>();
        int n = data.examples().size();
        try (MmaInference inf = new MmaInference(model, merged); Progress bar = Progress.start("eval", n, 0, quiet)) {
            for (int at = 0; at < n; at += batchSize) {
                List<MmaExample> batch = data.examples().subList(at, Math.min(n, at + batchSize));
                outputs.addAll(inf.decode(inf.generateEncoded(batch, g, null)));
                bar.step(batch.size(), "");
            }
        }
        int[] predicted = new int[n];
        for (int i = 0; i < n; i++) predicted[i] = parser.parse(outputs.get(i), data.problems().get(i).choices());
        return new Result(data.problems(), outputs, predicted, ScienceQaScore.table(data.problems(), predicted),
                data.skippedTooLong(), (System.nanoTime() - t0) / 1e9);
    }

    /** Per-question predictions, the table and the decoding settings, as JSON (written atomically). */
    public static void write(Result r, Path file, GenerationConfig g, String label) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("label", label);
        ObjectNode dec = root.putObject("decoding");
        dec.put("max_new_tokens", g.maxNewTokens());
        dec.put("temperature", g.temperature());
        dec.put("top_k", g.topK());
        dec.put("top_p", g.topP());
        dec.put("seed", g.seed());
        dec.put("num_beams", g.numBeams());
        dec.put("length_penalty", g.lengthPenalty());
        dec.put("min_new_tokens", g.minNewTokens());
        dec.put("no_repeat_ngram_size", g.noRepeatNgram());
        root.put("skipped_too_long", r.skippedTooLong());
        root.put("seconds", r.seconds());
        ObjectNode table = root.putObject("table");
        r.table().forEach((c, cell) -> {
            ObjectNode o = table.putObject(c);
            o.put("correct", cell.correct());
            o.put("total", cell.total());
            o.put("accuracy", cell.accuracy());
        });
        ArrayNode preds = root.putArray("predictions");
        for (int i = 0; i < r.problems().size(); i++) {
            ObjectNode o = preds.addObject();
            o.put("pid", r.problems().get(i).pid());
            o.put("output", r.outputs().get(i));
            o.put("predicted", r.predicted()[i]);
            o.put("answer", r.problems().get(i).answer());
            o.put("correct", r.predicted()[i] == r.problems().get(i).answer());
        }
        AtomicFiles.writeString(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(root));
    }
}
