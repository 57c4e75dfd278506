package io.vladapt.mma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vladapt.cli.Main;
import io.vladapt.io.ClipLoader;
import io.vladapt.io.LlamaLoader;
import io.vladapt.io.SafetensorsFile;
import io.vladapt.io.TextTokenizer;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.GenerationConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.Tensors;
import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.GoldenDiff;
import io.vladapt.testutil.T;
import io.vladapt.train.AdamW;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Golden parity of the whole LaVIN model against a PyTorch re-implementation of LaVIN's own code
 * (fixtures/lavin-golden/make_lavin_golden.py), loaded from the files a LaVIN user has: a Meta LLaMA-1
 * folder, an OpenAI-format CLIP state dict and a LaVIN adapter checkpoint. Every tensor the reference
 * saved is matched to 1e-4 in float32: logits, hidden states, the routing weights of every LLM and ViT
 * adapter, the [CLS] states and visual tokens, the loss on the answer span, the adapter gradients and
 * the weights after one AdamW step (where the gradient is above float noise, see {@link GoldenDiff#aboveNoise}).
 *
 * <ul>
 *   <li>Compatibility mode reproduces LaVIN's code: vitRoutingCompat (every image routed by the batch's
 *       first one, text-only rows as zero images), and LaVIN's joint prompt + answer tokenization, fed
 *       as ids made by the reference (VLAdapt tokenizes them separately on purpose).</li>
 *   <li>Default mode equals the reference with VLAdapt's documented fixes switched on (each image
 *       routed by itself, prompt and answer tokenized separately) and, on LaVIN's own ids, equals
 *       LaVIN's code on every row the routing fix does not touch.</li>
 * </ul>
 * Dropout is 0 in both (different generators draw different masks); LaVIN's fp16 casts are not part of
 * the reference (precision, not the model; the script prints their effect).
 */
class LavinGoldenTest {
    private static final double TOL = 1e-4;
    private static final Path DIR = Fixtures.dir("lavin-golden");
    private static final JsonNode INPUTS = json(DIR.resolve("golden.json"));
    private static final JsonNode CONFIG = INPUTS.get("config");

    @TempDir
    Path tmp;

    @Test
    void lavinsCodeInCompatibilityMode() {
        GoldenDiff d = new GoldenDiff("LaVIN golden, compatibility mode (vitRoutingCompat, LaVIN's tokenization)", TOL);
        try (Golden g = new Golden(true); PointerScope scope = new PointerScope()) {
            Map<String, Tensor> e = Fixtures.expected("lavin-golden");
            MmaBatch batch = referenceBatch(e, "lavin.", true);
            assertEquals(4, batch.pixels().size(0), "every row runs through the ViT, text-only ones as zero images");
            forwardAndTrainingStep(d, g.model, batch, e, "lavin.");
        }
        d.print();
    }

    @Test
    void defaultModeIsLavinWithTheDocumentedFixes() {
        GoldenDiff d = new GoldenDiff("LaVIN golden, default mode (per-image ViT routing, separate tokenization)", TOL);
        try (Golden g = new Golden(false); PointerScope scope = new PointerScope()) {
            Map<String, Tensor> e = Fixtures.expected("lavin-golden");
            // VLAdapt's own tokenization: LaVIN's prefix and markers, prompt and answer encoded separately
            List<MmaModel.Encoded> enc = new ArrayList<>();
            List<Tensor> images = new ArrayList<>();
            int answersShifted = 0;
            for (int r = 0; r < INPUTS.get("samples").size(); r++) {
                JsonNode s = INPUTS.get("samples").get(r);
                boolean image = !s.get("image").isNull();
                MmaModel.Encoded x = g.model.encode(s.get("prompt").asText(), s.get("answer").asText(), image);
                assertArrayEquals(row(e, "fixed.", r), x.ids(), "sample " + r + ": ids");
                assertEquals(Tensors.toLongs(e.get("fixed.answer_start"))[r], x.answerStart(), "sample " + r + ": answer start");
                long[] joint = row(e, "lavin.", r);
                assertArrayEquals(Arrays.copyOf(joint, x.answerStart()), Arrays.copyOf(x.ids(), x.answerStart()),
                        "sample " + r + ": LaVIN's tokenization differs only from the answer on");
                if (!Arrays.equals(joint, x.ids())) answersShifted++;
                enc.add(x);
                images.add(image ? e.get("pixel_values").select(0, r) : null);
            }
            assertEquals(4, answersShifted, "every sample exercises the tokenization fix (\"Response:The\" joined)");
            MmaBatch batch = MmaBatch.of(enc, images, false, 0);
            assertEquals(2, batch.pixels().size(0), "only the image rows run through the ViT");
            forwardAndTrainingStep(d, g.model, batch, e, "fixed.");
        }
        d.print();
    }

    @Test
    void onLavinsIdsDefaultModeDiffersOnlyWhereLavinRoutedAnImageByAnother() {
        GoldenDiff d = new GoldenDiff("LaVIN golden, default mode on LaVIN's ids", TOL);
        try (Golden g = new Golden(false); PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Map<String, Tensor> e = Fixtures.expected("lavin-golden");
            Map<String, Tensor> t = MmaTrace.forward(g.model, referenceBatch(e, "lavin.", false));
            Tensor valid = e.get("lavin.valid");
            // rows 0 (the batch's first image, which LaVIN routes by itself) and 1, 3 (text-only) are LaVIN's exactly
            for (int r : new int[] {0, 1, 3}) {
                d.check("logits", "row " + r, t.get("logits").select(0, r), e.get("lavin.logits").select(0, r), valid.select(0, r));
            }
            d.check("visual tokens", "image 0", t.get("visual_tokens").select(0, 0), e.get("lavin.visual_tokens").select(0, 0));
            // row 2's image: LaVIN routed it by row 0's image; VLAdapt by itself, as the per-image reference
            d.check("visual tokens", "image 1 (per-image reference)", t.get("visual_tokens").select(0, 1), e.get("fixed.visual_tokens").select(0, 1));
            double routed = GoldenDiff.maxDiff(t.get("visual_tokens").select(0, 1), e.get("lavin.visual_tokens").select(0, 2));
            double logits = GoldenDiff.maxDiff(torch.where(valid.select(0, 2).unsqueeze(1), t.get("logits").select(0, 2), torch.zeros_like(t.get("logits").select(0, 2))),
                    torch.where(valid.select(0, 2).unsqueeze(1), e.get("lavin.logits").select(0, 2), torch.zeros_like(t.get("logits").select(0, 2))));
            System.out.printf("  row 2 vs LaVIN's code (routed by row 0's image): visual tokens differ by %.3f, logits by %.3f%n", routed, logits);
            assertTrue(routed > 1e-2 && logits > 1e-2, "LaVIN's batch-dependent routing must show in this fixture");
        }
        d.print();
    }

    @Test
    void vladaptMmaForwardWritesTheReferenceTensors() throws IOException {
        GoldenDiff d = new GoldenDiff("vladapt mma forward (image file, prompt) vs reference", TOL);
        Path out = tmp.resolve("forward.safetensors");
        int code = Main.commandLine().execute("mma", "forward", "--lm", DIR.resolve("llama").toString(), "--vit",
                DIR.resolve("clip-vit.pth").toString(), "--vit-heads", CONFIG.get("vit_heads").asText(), "--adapter",
                DIR.resolve("checkpoint-19.pth").toString(), "--rank", CONFIG.get("rank").asText(), "--router-temperature",
                CONFIG.get("temperature").asText(), "--neck", CONFIG.get("neck").asText(), "--visual-tokens",
                CONFIG.get("visual_tokens").asText(), "--image", DIR.resolve("image.png").toString(), "--prompt",
                INPUTS.get("cli_prompt").asText(), "--out", out.toString(), "--threads", "1", "--dtype", "float32");
        assertEquals(0, code);
        try (PointerScope scope = new PointerScope(); SafetensorsFile f = SafetensorsFile.open(out)) {
            Map<String, Tensor> e = Fixtures.expected("lavin-golden");
            int n = 0;
            for (Map.Entry<String, Tensor> x : e.entrySet()) {
                if (!x.getKey().startsWith("cli.")) continue;
                String name = x.getKey().substring(4);
                assertTrue(f.has(name), "the dump holds " + name);
                if (name.equals("input_ids")) assertTrue(torch.equal(f.load(name), x.getValue()), "input_ids");
                else d.check(group(name), name, f.load(name), x.getValue());
                n++;
            }
            assertEquals(5 + 2 * CONFIG.get("llm_layers").asInt() + 1 + CONFIG.get("vit_layers").asInt(), n, "cli.* tensors");
        }
        d.print();
    }

    @Test
    void greedyDecodingContinuesThePositionsWhereLavinRepeatsOne() {
        try (Golden g = new Golden(false); PointerScope scope = new PointerScope(); MmaInference inf = new MmaInference(g.model, false)) {
            Map<String, Tensor> e = Fixtures.expected("lavin-golden");
            int steps = CONFIG.get("greedy_steps").asInt();
            long[] got = inf.generate(List.of(new MmaInference.Prompt(INPUTS.get("cli_prompt").asText(), e.get("cli.pixel_values").select(0, 0))),
                    GenerationConfig.greedy(steps).ignoringEos(), null).get(0);
            long[] fixed = Tensors.toLongs(e.get("fixed.greedy")), lavin = Tensors.toLongs(e.get("lavin.greedy"));
            assertArrayEquals(fixed, got, "LaVIN's generator with RoPE positions continued after the prompt");
            assertEquals(lavin[0], got[0], "the first token comes from the prompt pass, untouched by the fix");
            assertFalse(Arrays.equals(lavin, got), "LaVIN's cached decoding repeats the last prompt position");
            System.out.println("greedy: VLAdapt " + Arrays.toString(got) + " = reference with positions continued; LaVIN's positions "
                    + Arrays.toString(lavin));
        }
    }

    @Test
    void compatibilityModeInferenceRoutesImagesLikeLavinsEvaluation() {
        GoldenDiff d = new GoldenDiff("LaVIN golden, text-only first sample (compatibility mode)", TOL);
        try (Golden g = new Golden(true); PointerScope scope = new PointerScope(); MmaInference inf = new MmaInference(g.model, false)) {
            Map<String, Tensor> e = Fixtures.expected("lavin-golden");
            Tensor pixels = e.get("textfirst.pixel_values");                              // (3, 3, S, S): zero image, A, B
            try (NoGradGuard ng = new NoGradGuard()) {
                d.check("visual tokens", "training path", g.model.visualTokens(pixels, false), e.get("textfirst.visual_tokens"));
            }
            // evaluation of [text-only, image A]: LaVIN runs the text-only row as a zero image, which then routes image A
            Map<String, Tensor> traced = new HashMap<>();
            g.model.trace((name, t) -> {
                scope.attach(t);                                                         // outlives the inference's own scope
                traced.put(name, t);
            });
            inf.generate(List.of(new MmaInference.Prompt("Question: Is ice cold?\nResponse:", null),
                    new MmaInference.Prompt(INPUTS.get("cli_prompt").asText(), pixels.select(0, 1))), GenerationConfig.greedy(1), null);
            g.model.trace(null);
            assertEquals(2, traced.get("visual_tokens").size(0), "the text-only row ran through the ViT as well");
            d.check("visual tokens", "inference path", traced.get("visual_tokens").select(0, 1), e.get("textfirst.visual_tokens").select(0, 1));
        }
        d.print();
    }

    /** Everything MmaTrace records, then the loss, gradients and AdamW step, against one variant's reference. */
    private static void forwardAndTrainingStep(GoldenDiff d, MmaModel model, MmaBatch batch, Map<String, Tensor> e, String v) {
        forward(d, model, batch, e, v);
        trainingStep(d, model, batch, e, v);
    }

    private static void forward(GoldenDiff d, MmaModel model, MmaBatch batch, Map<String, Tensor> e, String v) {
        Map<String, Tensor> t = MmaTrace.forward(model, batch);
        assertTrue(torch.equal(batch.tokens(), e.get(v + "input_ids")), v + "input_ids");
        Tensor valid = e.get(v + "valid");                                                // (B, L): t_m + ids
        int compared = 0;
        for (String name : e.keySet()) {
            if (!name.startsWith(v) || !t.containsKey(name.substring(v.length()))) continue;
            String n = name.substring(v.length());
            if (n.equals("input_ids") || n.equals("has_image") || n.equals("pixel_values")) continue;
            boolean positions = n.equals("logits") || n.startsWith("hidden_states.");
            d.check(group(n), n, t.get(n), e.get(name), positions ? valid : null);
            compared++;
        }
        int layers = CONFIG.get("llm_layers").asInt(), vitLayers = CONFIG.get("vit_layers").asInt();
        assertEquals(layers, t.keySet().stream().filter(k -> k.startsWith("llm_routing.")).count());
        assertEquals(vitLayers, t.keySet().stream().filter(k -> k.startsWith("vit_routing.")).count());
        assertEquals(t.size() - 3, compared, "every traced tensor has a reference (all but the inputs)");
    }

    /** Loss and backward in training mode, the adapter gradients, then one LaVIN AdamW step. */
    private static void trainingStep(GoldenDiff d, MmaModel model, MmaBatch batch, Map<String, Tensor> e, String v) {
        var params = model.adapters().params().asMap();
        Tensor loss = model.loss(batch, true);
        d.check("loss", "loss (training pass)", loss, e.get(v + "loss"));
        loss.backward();
        for (Map.Entry<String, Tensor> p : params.entrySet()) {
            d.check("adapter gradients", p.getKey(), p.getValue().grad(), e.get(v + "grad." + MmaCheckpoint.lavinName(p.getKey())));
        }
        assertEquals(e.keySet().stream().filter(k -> k.startsWith(v + "grad.")).count(), params.size(), "one gradient per adapter tensor");
        try (AdamW opt = AdamW.lavin(model.adapters().params(), CONFIG.get("weight_decay").asDouble())) {
            opt.step(CONFIG.get("lr").asDouble());
        }
        for (Map.Entry<String, Tensor> p : params.entrySet()) {
            String lavin = MmaCheckpoint.lavinName(p.getKey());
            d.check("weights after one AdamW step", p.getKey(), p.getValue(), e.get(v + "step." + lavin),
                    GoldenDiff.aboveNoise(e.get(v + "grad." + lavin)));
        }
        System.out.println("  " + v + " step check leaves out " + GoldenDiff.belowNoise(e, v + "grad.") + " elements whose gradient is under "
                + GoldenDiff.GRAD_NOISE);
    }

    /** A batch of the reference's ids (placeholders where visual tokens go) and images. */
    private static MmaBatch referenceBatch(Map<String, Tensor> e, String v, boolean allRows) {
        long[] starts = Tensors.toLongs(e.get(v + "answer_start")), has = Tensors.toLongs(e.get(v + "has_image"));
        List<MmaModel.Encoded> enc = new ArrayList<>();
        List<Tensor> images = new ArrayList<>();
        for (int r = 0; r < has.length; r++) {
            enc.add(new MmaModel.Encoded(row(e, v, r), (int) starts[r], has[r] == 1));
            images.add(has[r] == 1 ? e.get("pixel_values").select(0, r) : null);
        }
        return MmaBatch.of(enc, images, allRows, 0);
    }

    /** Row r of a variant's input_ids without its padding. */
    private static long[] row(Map<String, Tensor> e, String v, int r) {
        long n = e.get(v + "valid").select(0, r).to(ScalarType.Long).sum().item().toLong() - 1;
        return Arrays.copyOf(Tensors.toLongs(e.get(v + "input_ids").select(0, r)), (int) n);
    }

    private static String group(String name) {
        if (name.startsWith("hidden_states.")) return "hidden states";
        if (name.startsWith("llm_routing.")) return "LLM routing weights";
        if (name.startsWith("vit_routing.")) return "ViT routing weights";
        return switch (name) {
            case "vit_cls" -> "ViT [CLS] states";
            case "visual_tokens" -> "visual tokens";
            case "pixel_values" -> "pixel values";
            default -> name;
        };
    }

    private static JsonNode json(Path p) {
        try {
            return new ObjectMapper().readTree(Files.readString(p));
        } catch (IOException ex) {
            throw new IllegalStateException(p + ": " + ex.getMessage(), ex);
        }
    }

    /** The fixture's models, loaded from LaVIN's files as a user would (adapter dropout 0, see the class comment). */
    private static final class Golden implements AutoCloseable {
        final TextTokenizer tok;
        final LlamaModel lm;
        final ClipVisionModel vit;
        final MmaModel model;

        Golden(boolean compat) {
            T.opts(ScalarType.Float);
            tok = TextTokenizer.load(DIR.resolve("llama"));
            lm = LlamaLoader.load(DIR.resolve("llama"), ScalarType.Float);
            vit = ClipLoader.load(DIR.resolve("clip-vit.pth"), ScalarType.Float, CONFIG.get("vit_heads").asInt());
            AdapterSettings s = new AdapterSettings(CONFIG.get("groups").asInt(), 1.0, CONFIG.get("temperature").asDouble(), 0.0);
            MmaConfig c = new MmaConfig(CONFIG.get("llm_layers").asInt(), CONFIG.get("llm_dim").asInt(), CONFIG.get("vit_layers").asInt(),
                    CONFIG.get("vit_dim").asInt(), CONFIG.get("rank").asInt(), s, s, CONFIG.get("neck").asInt(),
                    CONFIG.get("visual_tokens").asInt(), compat);
            MmaAdapters a = MmaAdapters.init(c, 0);
            MmaCheckpoint.loadLavinPth(DIR.resolve("checkpoint-19.pth"), a);
            model = new MmaModel(lm, vit, a, tok);
        }

        @Override
        public void close() {
            model.close();
            lm.close();
            vit.close();
            tok.close();
        }
    }
}
