package io.vladapt.vpg;

import io.vladapt.vpg.transfer.LlmIdentity;
import io.vladapt.vpg.transfer.TokenPairs;
import io.vladapt.vpg.transfer.WordConverter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.io.AtomicFiles;
import io.vladapt.train.TrainConfig;
import io.vladapt.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * VPGTrans' stage chain on loaded parts (the method; {@code api.VpgTransfer} loads the folders):
 * converter -> fusion -> stage 1 (projector warm-up) -> stage 2 (VPG + projector), and training from
 * scratch (TFS) as the baseline. Every stage writes one folder and, when it is done, {@value #MARKER}:
 * what it was made from (the spec) and what it measured. With {@code resume}, a finished stage with the
 * same spec is read back instead of run, a killed one continues from its newest checkpoint, and a folder
 * made from other inputs or settings is refused; without it, the stage's earlier outputs are deleted first.
 * Determinism: a stage's randomness (data order, dropout, a fresh VPG or projector) comes from the
 * recipe's seed only, so the same seed on the same machine and thread count gives the same curve.
 */
public final class VpgTransStages {
    /** The file a stage folder holds once the stage is done. */
    public static final String MARKER = "stage.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private VpgTransStages() {}

    /**
     * What every training stage reads.
     *
     * @param features (N_images, ...) the ViT features the stage's VPG reads ({@link VitFeatures}), one row per {@code data} image
     * @param listener gets each epoch's scores (may be null)
     * @param decoding how every evaluation decodes ({@link VlDecoding#paper()}: beam 5 with the paper's lengths)
     */
    public record Context(VlDataset data, Tensor features, boolean resume, boolean quiet, PrintStream log, StageListener listener,
                          VlDecoding decoding) {}

    /** Receives each epoch's scores of every training stage. */
    @FunctionalInterface
    public interface StageListener {
        void onEpoch(String stage, int epoch, int epochs, java.util.Map<String, Double> scores);
    }

    /**
     * A fitted converter.
     *
     * @param pairs   token pairs it was fitted on
     * @param seconds fitting time (of the run that fitted it, when read back)
     * @param reused  read back from a finished folder (resume) instead of fitted
     */
    public record ConverterRun(Path dir, String pairing, long pairs, int captions, int dropped, double finalLoss, double seconds, boolean reused) {}

    /** How converter pairs are made: by id (one tokenizer), the official equal-length heuristic, or by character spans. */
    public static TokenPairs pairs(String pairing, List<String> captions, FrozenLlm s, FrozenLlm t) {
        return switch (pairing) {
            case "same-ids" -> TokenPairs.sameTokenizer(captions, s.tok());
            case "positional" -> TokenPairs.positional(captions, s.tok(), t.tok());
            case "char-aligned" -> TokenPairs.charAligned(captions, s.tok(), t.tok());
            default -> throw new IllegalArgumentException("pairing must be same-ids, positional or char-aligned, not '" + pairing + "'");
        };
    }

    /**
     * Stage 1b: fits the word converter from {@code s}'s input embeddings to {@code t}'s and writes it to {@code out}.
     * Throws when the pairing leaves no token pairs (e.g. the positional heuristic across tokenizers).
     */
    public static ConverterRun fitConverter(FrozenLlm s, FrozenLlm t, List<String> captions, String pairing, WordConverter.Fit fit, Path out,
                                            boolean resume, boolean quiet) throws IOException {
        String spec = "converter " + pairing + " " + fit + " from " + s.id() + " to " + t.id() + " on " + captions.size() + " captions (hash "
                + Integer.toHexString(captions.hashCode()) + ")";
        JsonNode done = begin(out, spec, resume, List.of(WordConverter.WEIGHTS, WordConverter.CONFIG));
        if (done != null) {
            try (WordConverter c = WordConverter.load(out)) {
                return new ConverterRun(out, pairing, done.path("pairs").asLong(), done.path("captions").asInt(), done.path("dropped").asInt(),
                        c.finalLoss(), done.path("seconds").asDouble(), true);
            }
        }
        TokenPairs p = pairs(pairing, captions, s, t);
        if (p.count() == 0) {
            throw new IllegalArgumentException(pairing + " pairing: " + p.source().size() + " of " + captions.size()
                    + " captions give token pairs (" + p.dropped() + " dropped), nothing to fit");
        }
        long t0 = System.nanoTime();
        double loss;
        try (PointerScope sc = new PointerScope(); WordConverter c = WordConverter.fit(s.embeddings(), t.embeddings(), p, fit, s.id(), t.id(), quiet)) {
            c.save(out);
            loss = c.finalLoss();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        ObjectNode m = marker("converter", spec);
        m.put("pairs", p.count());
        m.put("captions", p.source().size());
        m.put("dropped", p.dropped());
        m.put("seconds", secs);
        finish(out, m);
        return new ConverterRun(out, pairing, p.count(), p.source().size(), p.dropped(), loss, secs, false);
    }

    /** Stage 1b's merge: the converter after the source projector, W_t = W_c W_s, b_t = W_c b_s + b_c, written to {@code out}. */
    public static void fuse(Path converter, Path sourceProjector, LlmIdentity target, Path out) throws IOException {
        try (WordConverter c = WordConverter.load(converter); Projector s = Projector.load(sourceProjector); Projector f = Projector.fused(c, s, target)) {
            f.save(out);
        }
    }

    /** Stage 1c: the inherited VPG (frozen) and the fused projector; only the projector trains, one epoch at warm-up-factor x lr, constant. */
    public static VlRun.Result stage1(Context c, FrozenLlm t, Path sourceVpg, Path fusedProjector, Recipe r, Path out) throws IOException {
        String spec = "stage1 " + r + " on " + t.id() + " from " + abs(sourceVpg) + " and " + abs(fusedProjector);
        return train(c, "stage1", "VPGTrans stage 1 (projector warm-up)", t, VpgInit.weights(sourceVpg), fusedProjector, r.seed() + 51,
                r.stage1(out.resolve("train"), c.quiet()), VpgTask.Part.PROJECTOR, null, out, spec);
    }

    /**
     * Stage 2: VPG + projector from stage 1's folder, the recipe's lr with warm-up and cosine, for the remaining epochs of the budget.
     *
     * @param stop ends stage 2 early after an epoch (null: never), e.g. {@link #stopWhenBeaten}
     * @param stopSpec what the stop rule is, for the stage's spec ("" for none)
     */
    public static VlRun.Result stage2(Context c, FrozenLlm t, Path stage1, Recipe r, Path out, Predicate<List<Trainer.EvalRecord>> stop,
                                      String stopSpec) throws IOException {
        String spec = "stage2 " + r + " on " + t.id() + " from " + abs(stage1) + (stopSpec.isEmpty() ? "" : ", stop " + stopSpec);
        Path projector = stage1.resolve("projector");
        if (!Files.isDirectory(stage1.resolve("vpg")) || !Files.isDirectory(projector)) {
            throw new IllegalArgumentException(stage1 + ": no vpg/ and projector/ (not a finished stage 1 folder)");
        }
        return train(c, "stage2", "VPGTrans stage 2 (VPG + projector)", t, VpgInit.weights(stage1.resolve("vpg")), projector, r.seed() + 51,
                r.stage2(out.resolve("train"), c.quiet()), VpgTask.Part.VPG_AND_PROJECTOR, stop, out, spec);
    }

    /** Training from scratch: the VPG from {@code init}, a random projector (seed + 51), the whole budget with warm-up and cosine. */
    public static VlRun.Result tfs(Context c, FrozenLlm t, VpgInit init, Recipe r, Path out, String label) throws IOException {
        String spec = "tfs " + r + " on " + t.id() + " from " + init.describe();
        return train(c, "tfs", label, t, init, null, r.seed() + 51, r.tfs(out.resolve("train"), c.quiet()), VpgTask.Part.VPG_AND_PROJECTOR, null,
                out, spec);
    }

    /**
     * A stage-2 stop rule: stop once VPGTrans (stage 1's epochs, then stage 2's) has exceeded TFS's best on both
     * datasets and the curve has at least {@code minEpochs} epochs. Table 3 needs no more epochs than that.
     */
    public static Predicate<List<Trainer.EvalRecord>> stopWhenBeaten(VlRun.Result tfs, VlRun.Result stage1, int minEpochs) {
        return evals -> {
            List<Double> cider = new ArrayList<>(stage1.cider()), vqa = new ArrayList<>(stage1.vqa());
            for (Trainer.EvalRecord e : evals) {
                cider.add(e.scores().get("cider"));
                vqa.add(e.scores().get("vqa"));
            }
            return cider.size() >= minEpochs && !SpeedUp.of(tfs.cider(), cider).never() && !SpeedUp.of(tfs.vqa(), vqa).never();
        };
    }

    /** The spec of {@link #stopWhenBeaten}, for stage 2's. */
    public static String stopWhenBeatenSpec(VlRun.Result tfs, int minEpochs) {
        return "when TFS's best " + java.util.Collections.max(tfs.cider()) + " CIDEr-D and " + java.util.Collections.max(tfs.vqa())
                + " VQA are exceeded, after >= " + minEpochs + " epochs";
    }

    /** Scores a VPG and projector on the target LLM without training (e.g. right after fusion). */
    public static VlEval.Scores evaluate(Context c, FrozenLlm t, Path vpg, Path projector) throws IOException {
        try (Vpg v = Vpgs.load(vpg); Projector p = Projector.load(projector)) {
            return VlEval.run(new VlModel(t.lm(), t.tok(), v, p), c.features(), c.data(), 64, c.decoding());
        }
    }

    /** The curve of a stage folder (finished or killed), from its train/eval.jsonl. */
    public static VlRun.Result read(Path stage) throws IOException {
        VlRun.Result r = VlRun.read(stage.resolve("train"));
        JsonNode m = readMarker(stage);
        return m == null ? r : new VlRun.Result(r.cider(), r.vqa(), r.seconds(), m.path("samples").asLong());
    }

    // ---------------------------------------------------------------- one training stage
    private static VlRun.Result train(Context c, String stage, String label, FrozenLlm llm, VpgInit init, Path projectorDir, long projectorSeed,
                                      TrainConfig tc, VpgTask.Part part, Predicate<List<Trainer.EvalRecord>> stop, Path out, String spec)
            throws IOException {
        JsonNode done = begin(out, spec, c.resume(), List.of("train", "vpg", "projector", "eval.json"));
        if (done != null) {
            VlRun.Result r = read(out);
            if (!c.quiet()) c.log().printf("%n%s: done earlier in %s, read back%n", label, out);
            return r;
        }
        long vpgSeed = tc.seed() + 50;
        VlRun.EpochListener l = c.listener() == null ? null : (e, n, scores) -> c.listener().onEpoch(stage, e, n, scores);
        VlRun.Result r = VlRun.train(llm, init.folder(), () -> init.fresh(vpgSeed), projectorDir, projectorSeed, c.features(), c.data(), out, tc, part,
                stop, c.resume(), label, c.log(), c.decoding(), l);
        ObjectNode m = marker(stage, spec);
        m.put("samples", r.samples());
        m.put("epochs", r.cider().size());
        finish(out, m);
        return r;
    }

    // ---------------------------------------------------------------- stage.json
    private static Path abs(Path p) {
        return p.toAbsolutePath().normalize();
    }

    private static ObjectNode marker(String stage, String spec) {
        ObjectNode m = JSON.createObjectNode();
        m.put("stage", stage);
        m.put("spec", spec);
        return m;
    }

    private static JsonNode readMarker(Path out) throws IOException {
        Path f = out.resolve(MARKER);
        return Files.isRegularFile(f) ? JSON.readTree(Files.readString(f)) : null;
    }

    /**
     * Starts a stage in {@code out}: with resume, returns the finished stage's marker when its spec matches (null when
     * it must still run), and refuses a folder made from something else; without resume, deletes the stage's outputs.
     */
    private static JsonNode begin(Path out, String spec, boolean resume, List<String> outputs) throws IOException {
        Path f = out.resolve(MARKER), started = out.resolve(".stage-spec");
        if (resume) {
            JsonNode m = readMarker(out);
            String was = m != null ? m.path("spec").asText() : Files.isRegularFile(started) ? Files.readString(started) : null;
            if (was != null && !was.equals(spec)) {
                throw new IllegalStateException(out + " holds a stage made from other inputs or settings; delete it or run without resume.\n  it was: "
                        + was + "\n  now:    " + spec);
            }
            if (m != null) return m;
        } else {
            Files.deleteIfExists(f);
            for (String o : outputs) Trainer.deleteOutputs(out.resolve(o));
        }
        Files.createDirectories(out);
        AtomicFiles.writeString(started, spec);
        return null;
    }

    private static void finish(Path out, ObjectNode m) throws IOException {
        AtomicFiles.writeString(out.resolve(MARKER), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m));
    }
}
