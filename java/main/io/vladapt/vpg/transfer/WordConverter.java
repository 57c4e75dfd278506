package io.vladapt.vpg.transfer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.ext.OpCheck;
import io.vladapt.io.AtomicFiles;
import io.vladapt.nn.LinearWeights;
import io.vladapt.nn.Params;
import io.vladapt.nn.RandomInit;
import io.vladapt.nn.Tensors;
import io.vladapt.train.ParamFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * VPGTrans' word-embedding converter g(x) = W x + b from LLM_src's input-embedding space to
 * LLM_tgt's, fitted on token occurrences with loss mean(1 - cos(g(e_src), e_tgt)) and plain SGD
 * (official: lr 5.0, 4096 captions per batch, 5 epochs same tokenizer, 8 across tokenizers, seed 0,
 * float32). The cosine leaves the output scale free; the projector warm-up fixes it later.
 */
public final class WordConverter implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String WEIGHTS = "converter.safetensors", CONFIG = "converter_config.json";

    /** SGD settings; {@link #official(boolean)} are the paper's. */
    public record Fit(double lr, int captionsPerBatch, int epochs, long seed) {
        public Fit {
            if (!(lr > 0) || captionsPerBatch < 1 || epochs < 1) throw new IllegalArgumentException("converter fit: lr > 0, batch >= 1, epochs >= 1");
        }

        public static Fit official(boolean crossTokenizer) {
            return new Fit(5.0, 4096, crossTokenizer ? 8 : 5, 0);
        }
    }

    private final Params params;
    private final LlmIdentity source, target;
    private final String pairing;
    private final double finalLoss;

    private WordConverter(Params params, LlmIdentity source, LlmIdentity target, String pairing, double finalLoss) {
        this.params = params;
        this.source = source;
        this.target = target;
        this.pairing = pairing;
        this.finalLoss = finalLoss;
    }

    /**
     * Fits the converter. {@code srcEmbed} (V_s, d_s) and {@code tgtEmbed} (V_t, d_t) are the two
     * input-embedding tables; each pair row indexes them.
     */
    public static WordConverter fit(Tensor srcEmbed, Tensor tgtEmbed, TokenPairs pairs, Fit f, LlmIdentity source, LlmIdentity target,
                                    boolean quiet) {
        OpCheck c = new OpCheck("WordConverter.fit");
        c.tensor("source embeddings", srcEmbed, "V_s", "d_s");
        c.tensor("target embeddings", tgtEmbed, "V_t", "d_t");
        if (srcEmbed.size(1) != source.hiddenSize() || tgtEmbed.size(1) != target.hiddenSize()) {
            throw new IllegalArgumentException("embedding widths " + srcEmbed.size(1) + " -> " + tgtEmbed.size(1) + " do not match the LLMs "
                    + source + " -> " + target);
        }
        if (pairs.count() == 0) throw new IllegalArgumentException("no token pairs to fit the converter on (" + pairs.pairing()
                + ", " + pairs.dropped() + " captions dropped)");
        int ds = (int) srcEmbed.size(1), dt = (int) tgtEmbed.size(1);
        Params p = new Params();
        double last = Double.NaN;
        try (PointerScope outer = new PointerScope()) {
            torch.manual_seed(f.seed());
            // torch.nn.Linear's default init: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias
            double bound = 1 / Math.sqrt(ds);
            p.put("weight", RandomInit.uniform(bound, dt, ds).set_requires_grad(true));
            p.put("bias", RandomInit.uniform(bound, dt).set_requires_grad(true));
            Tensor es = srcEmbed.detach().to(ScalarType.Float), et = tgtEmbed.detach().to(ScalarType.Float);
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < pairs.source().size(); i++) order.add(i);
            for (int epoch = 0; epoch < f.epochs(); epoch++) {
                Collections.shuffle(order, new Random(f.seed() + epoch));
                double sum = 0;
                int batches = 0;
                for (int at = 0; at < order.size(); at += f.captionsPerBatch()) {
                    List<Integer> rows = order.subList(at, Math.min(order.size(), at + f.captionsPerBatch()));
                    try (PointerScope s = new PointerScope()) {
                        Tensor x = es.index_select(0, Tensors.longs(flatten(pairs.source(), rows)));   // (n, d_s)
                        Tensor y = et.index_select(0, Tensors.longs(flatten(pairs.target(), rows)));   // (n, d_t)
                        Tensor out = torch.linear(x, p.get("weight"), new TensorOptional(p.get("bias")));  // (n, d_t)
                        Tensor loss = torch.cosine_similarity(out, y, 1, 1e-8).mean().neg().add(new Scalar(1));
                        loss.backward();
                        sum += loss.item_double();
                        batches++;
                        try (NoGradGuard g = new NoGradGuard()) {
                            for (Tensor w : p.asMap().values()) {
                                w.sub_(w.grad().mul(new Scalar(f.lr())));
                                w.grad().zero_();
                            }
                        }
                    }
                }
                last = sum / batches;
                if (!quiet) System.err.printf("  converter epoch %d/%d: 1 - cos = %.4f%n", epoch + 1, f.epochs(), last);
            }
            p.asMap().values().forEach(t -> t.set_requires_grad(false));
        }
        return new WordConverter(p, source, target, pairs.pairing(), last);
    }

    private static long[] flatten(List<long[]> rows, List<Integer> pick) {
        int n = 0;
        for (int r : pick) n += rows.get(r).length;
        long[] out = new long[n];
        int at = 0;
        for (int r : pick) {
            long[] row = rows.get(r);
            System.arraycopy(row, 0, out, at, row.length);
            at += row.length;
        }
        return out;
    }

    /** g applied to embeddings (..., d_s) -> (..., d_t). */
    public Tensor apply(Tensor x) {
        return torch.linear(x, params.get("weight"), new TensorOptional(params.get("bias")));
    }

    public LinearWeights weights() {
        return new LinearWeights(params.get("weight"), params.get("bias"));
    }

    public LlmIdentity source() {
        return source;
    }

    public LlmIdentity target() {
        return target;
    }

    public String pairing() {
        return pairing;
    }

    public double finalLoss() {
        return finalLoss;
    }

    /** A folder with converter.safetensors and converter_config.json (the LLM pair it belongs to). */
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        ParamFiles.save(params, dir.resolve(WEIGHTS), Map.of("format", "pt"));
        ObjectNode root = JSON.createObjectNode();
        root.set("source", JSON.valueToTree(source));
        root.set("target", JSON.valueToTree(target));
        root.put("pairing", pairing);
        root.put("final_loss", finalLoss);
        AtomicFiles.writeString(dir.resolve(CONFIG), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
    }

    public static WordConverter load(Path dir) throws IOException {
        Path cfg = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfg)) throw new IllegalArgumentException(dir + ": no " + CONFIG + " (not a converter folder)");
        ObjectNode root = (ObjectNode) JSON.readTree(Files.readString(cfg));
        LlmIdentity s = JSON.treeToValue(root.get("source"), LlmIdentity.class), t = JSON.treeToValue(root.get("target"), LlmIdentity.class);
        Params p = new Params();
        try (PointerScope scope = new PointerScope()) {
            p.put("weight", Tensors.zeros(ScalarType.Float, t.hiddenSize(), s.hiddenSize()));
            p.put("bias", Tensors.zeros(ScalarType.Float, t.hiddenSize()));
        }
        ParamFiles.loadInto(p, dir.resolve(WEIGHTS));
        return new WordConverter(p, s, t, root.path("pairing").asText(), root.path("final_loss").asDouble());
    }

    /** Refuses a converter fitted for another LLM pair, naming both. */
    public void requireFor(LlmIdentity src, LlmIdentity tgt) {
        if (!source.sameModel(src) || !target.sameModel(tgt)) {
            throw new IllegalArgumentException("the converter was fitted for " + source + " -> " + target + ", not for " + src + " -> " + tgt);
        }
    }

    @Override
    public void close() {
        params.close();
    }

    @Override
    public String toString() {
        return "WordConverter[" + source + " -> " + target + ", " + pairing + ", final 1-cos " + finalLoss + ", " + Arrays.toString(
                OpCheck.shape(params.get("weight"))) + "]";
    }
}
