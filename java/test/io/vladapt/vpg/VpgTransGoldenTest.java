package io.vladapt.vpg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vladapt.vpg.transfer.LlmIdentity;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vladapt.io.ClipLoader;
import io.vladapt.io.LlamaLoader;
import io.vladapt.io.TensorSource;
import io.vladapt.io.TextTokenizer;
import io.vladapt.io.TorchCheckpoint;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.Params;
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
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/**
 * Golden parity of the VPGTrans VL model (BLIP-2 on a LLaMA) against a PyTorch re-implementation of
 * VPGTrans's Blip2LLaMA.forward (fixtures/vpgtrans-golden/make_vpgtrans_golden.py), loaded from the
 * files a VPGTrans user has: the ViT as LAVIS's clip_vit_L.pth, a VPGTrans checkpoint (query_tokens,
 * ln_vision, Qformer.bert.*, llama_proj under "model") and an HF LLaMA. Matched to 1e-4 in float32: the
 * ViT features the VPG reads, the Q-Former output, the soft prompts, the logits of [soft prompts][BOS]
 * caption "\n", the loss, the gradients of every VPG and projector tensor, and the weights after one
 * AdamW step (where the gradient is above float noise, see {@link GoldenDiff#aboveNoise}). Dropout is 0
 * (different generators draw different masks).
 */
class VpgTransGoldenTest {
    private static final Path DIR = Fixtures.dir("vpgtrans-golden");

    @Test
    void blip2LlamaForwardLossAndOneTrainingStep() throws IOException {
        JsonNode c = new ObjectMapper().readTree(Files.readString(DIR.resolve("golden.json")));
        JsonNode q = c.get("qformer");
        GoldenDiff d = new GoldenDiff("VPGTrans golden (Blip2LLaMA.forward, one AdamW step)", 1e-4);
        T.opts(ScalarType.Float);
        QFormerConfig qc = new QFormerConfig(q.get("hidden").asInt(), q.get("layers").asInt(), q.get("heads").asInt(),
                q.get("intermediate").asInt(), q.get("cross_freq").asInt(), q.get("encoder_width").asInt(), q.get("queries").asInt(),
                1e-12, 1e-5, 0.0, 0.0);
        try (PointerScope scope = new PointerScope(); TextTokenizer tok = TextTokenizer.load(DIR.resolve("llama"));
             LlamaModel lm = LlamaLoader.load(DIR.resolve("llama"), ScalarType.Float);
             ClipVisionModel vit = ClipLoader.load(DIR.resolve("clip_vit.pth"), ScalarType.Float, c.get("vit_heads").asInt());
             TorchCheckpoint ck = TorchCheckpoint.open(DIR.resolve("checkpoint_best.pth")); TensorSource sd = ck.stateDict("model");
             QFormerVpg vpg = new QFormerVpg(QFormerCheckpoint.load(sd, qc), c.get("vit_block").asInt());
             Projector projector = Projector.random(qc.hiddenSize(), LlmIdentity.of("golden", lm), 0)) {
            try (NoGradGuard g = new NoGradGuard()) {
                projector.params().get(Projector.W).copy_(sd.load("llama_proj.weight"));
                projector.params().get(Projector.B).copy_(sd.load("llama_proj.bias"));
            }
            VlModel model = new VlModel(lm, tok, vpg, projector);
            Map<String, Tensor> e = Fixtures.expected("vpgtrans-golden");

            Tensor features;
            try (NoGradGuard g = new NoGradGuard()) {
                features = vpg.features(vit.forward(e.get("pixel_values"), null, true));   // (B, N+1, d_v), block vit_block
            }
            d.check("ViT features", "vit_features", features, e.get("vit_features"));
            d.check("Q-Former output", "query_output", vpg.forward(features, true), e.get("query_output"));
            Tensor soft = model.softPrompts(features, true);                               // (B, Q, d)
            d.check("soft prompts", "soft_prompts", soft, e.get("soft_prompts"));

            // [BOS] caption "\n": VLAdapt's tokenizer gives the reference's ids
            long[] lengths = Tensors.toLongs(e.get("lengths"));
            List<VlExample> batch = new ArrayList<>();
            for (int r = 0; r < lengths.length; r++) {
                long[] ids = Arrays.copyOf(Tensors.toLongs(e.get("input_ids").select(0, r)), (int) lengths[r]);
                assertArrayEquals(ids, tok.encode(c.get("captions").get(r).asText() + "\n", true), "caption " + r);
                batch.add(new VlExample(r, ids, 0));
            }
            d.check("logits", "logits", logits(lm, soft, e.get("input_ids")), e.get("logits"), validPositions(soft.size(1), lengths, e));

            Tensor loss = model.loss(features, batch, true);
            d.check("loss", "loss", loss, e.get("loss"));
            loss.backward();
            List<Params> trained = List.of(vpg.params(), projector.params());
            int n = 0;
            for (Params p : trained) {
                for (Map.Entry<String, Tensor> x : p.asMap().entrySet()) {
                    d.check("VPG + projector gradients", x.getKey(), x.getValue().grad(), e.get("grad." + vpgTransName(x.getKey())));
                    n++;
                }
            }
            assertEquals(e.keySet().stream().filter(k -> k.startsWith("grad.")).count(), n, "one gradient per trainable tensor");
            for (Params p : trained) {
                try (AdamW opt = new AdamW(p, c.get("betas").get(0).asDouble(), c.get("betas").get(1).asDouble(), 1e-8,
                        c.get("weight_decay").asDouble())) {
                    opt.step(c.get("lr").asDouble());
                }
                p.asMap().forEach((name, t) -> d.check("weights after one AdamW step", name, t, e.get("step." + vpgTransName(name)),
                        GoldenDiff.aboveNoise(e.get("grad." + vpgTransName(name)))));
            }
        }
        d.print();
        System.out.println("  (the step check leaves out " + GoldenDiff.belowNoise(Fixtures.expected("vpgtrans-golden"), "grad.")
                + " elements whose reference gradient is under " + GoldenDiff.GRAD_NOISE + ", mostly attention key biases, whose true gradient is 0)");
    }

    /** The frozen LLM over [soft prompts][text] (B, Q+T, V), positions from 0, as the reference runs it. */
    private static Tensor logits(LlamaModel lm, Tensor soft, Tensor ids) {
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor embeds = torch.cat(new TensorVector(soft, lm.embed(ids)), 1);
            long b = embeds.size(0), n = embeds.size(1);
            Tensor positions = torch.arange(new Scalar(n), Tensors.options(ScalarType.Long)).unsqueeze(0).expand(b, n);
            return lm.forward(new LlamaModel.Input(embeds, positions, null, null, null, false)).logits();
        }
    }

    /** (B, Q+T) true on the soft prompts and each caption's own tokens (not its padding). */
    private static Tensor validPositions(long q, long[] lengths, Map<String, Tensor> e) {
        long t = e.get("input_ids").size(1);
        Tensor pos = torch.arange(new Scalar(q + t), Tensors.options(ScalarType.Long)).unsqueeze(0);
        return pos.lt(Tensors.longs(lengths).add(new Scalar(q)).unsqueeze(1));
    }

    /** VPGTrans's (LAVIS's) name for a VPG or projector tensor. */
    private static String vpgTransName(String name) {
        if (name.equals(Projector.W)) return "llama_proj.weight";
        if (name.equals(Projector.B)) return "llama_proj.bias";
        return QFormerNames.lavis(name);
    }
}
