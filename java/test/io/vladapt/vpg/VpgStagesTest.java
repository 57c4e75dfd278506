package io.vladapt.vpg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.vpg.transfer.LlmIdentity;
import io.vladapt.vpg.transfer.TokenPairs;
import io.vladapt.vpg.transfer.WordConverter;
import io.vladapt.io.TextTokenizer;
import io.vladapt.nn.GenerationConfig;
import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.RandomInit;
import io.vladapt.nn.Tensors;
import io.vladapt.testutil.Fixtures;
import io.vladapt.train.TrainConfig;
import io.vladapt.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stage 1 moves the projector only; stage 2 moves the VPG too; mismatched parts are refused up front. */
class VpgStagesTest {
    @TempDir
    Path tmp;

    static LlamaModel llm(TextTokenizer tok, int d, long seed) {
        LlamaConfig c = new LlamaConfig(300, d, 2 * d, 2, 4, 2, d / 4, 1e-5, 10000.0, null, 128, false, false, tok.bosId(),
                List.of(tok.eosId()), tok.padId(), "float32");
        return RandomInit.llama(c, seed, ScalarType.Float);
    }

    static Map<String, Tensor> snapshot(Map<String, Tensor> m) {
        Map<String, Tensor> s = new LinkedHashMap<>();
        m.forEach((n, t) -> s.put(n, t.detach().clone().retainReference()));
        return s;
    }

    static boolean same(Map<String, Tensor> a, Map<String, Tensor> b) {
        return a.keySet().stream().allMatch(n -> torch.equal(a.get(n), b.get(n)));
    }

    @Test
    void stageOneTouchesOnlyTheProjectorAndStageTwoBoth() throws Exception {
        try (TextTokenizer tok = TextTokenizer.load(Fixtures.dir("tokenizer-bpe")); LlamaModel lm = llm(tok, 32, 1);
             NeckVpg vpg = NeckVpg.random(16, 6, 3, 8, 2); PointerScope s = new PointerScope()) {
            LlmIdentity id = LlmIdentity.of("tiny", lm);
            try (Projector proj = Projector.random(8, id, 3)) {
                VlModel m = new VlModel(lm, tok, vpg, proj);
                torch.manual_seed(4);
                Tensor features = torch.randn(new long[] {6, 3, 16}, Tensors.options(ScalarType.Float));   // (N_img, k, d_v)
                List<VlExample> ex = new ArrayList<>();
                for (int i = 0; i < 12; i++) ex.add(new VlExample(i % 6, tok.encode("a red circle " + i, true), 0));
                Map<String, Tensor> lm0 = snapshot(lm.params().asMap()), vpg0 = snapshot(vpg.params().asMap()), proj0 = snapshot(proj.params().asMap());
                TrainConfig c1 = new TrainConfig(1, 4, 1, 0.5, 0, 0.05, 0, 1, 0, 1, tmp.resolve("s1"), true,
                        new TrainConfig.Optim(0.9, 0.999, TrainConfig.Schedule.CONSTANT, 0));
                VpgTask stage1 = new VpgTask(m, features, ex, VpgTask.Part.PROJECTOR);
                assertEquals(proj.params().asMap().keySet(), stage1.trainable().asMap().keySet());
                new Trainer(stage1, c1).run(false, -1);
                assertTrue(same(vpg0, vpg.params().asMap()), "stage 1 changed the VPG");
                assertTrue(same(lm0, lm.params().asMap()), "stage 1 changed the LLM");
                assertFalse(same(proj0, proj.params().asMap()), "stage 1 did not train the projector");
                TrainConfig c2 = new TrainConfig(1, 4, 1, 0.5, 0.5, 0.05, 0, 1, 0, 1, tmp.resolve("s2"), true,
                        new TrainConfig.Optim(0.9, 0.999, TrainConfig.Schedule.WARMUP_COSINE, 1e-5));
                new Trainer(new VpgTask(m, features, ex, VpgTask.Part.VPG_AND_PROJECTOR), c2).run(false, -1);
                assertFalse(same(vpg0, vpg.params().asMap()), "stage 2 did not train the VPG");
                assertTrue(same(lm0, lm.params().asMap()), "stage 2 changed the LLM");
                // the checkpoint folders load back as a VPG and a projector
                Path ck = Trainer.latestCheckpoint(tmp.resolve("s2"));
                try (Vpg back = Vpgs.load(ck.resolve("vpg")); Projector pb = Projector.load(ck.resolve("projector"))) {
                    assertTrue(same(vpg.params().asMap(), back.params().asMap()));
                    assertTrue(pb.llm().sameModel(id));
                }
                List<long[]> gen = m.generate(features.narrow(0, 0, 2), List.of(new long[] {tok.bosId()}, tok.encode("Question: what", true)),
                        GenerationConfig.greedy(3).ignoringEos());
                assertEquals(3, gen.get(0).length);
                assertEquals(3, gen.get(1).length);
            }
        }
    }

    @Test
    void mismatchedPartsAreRefusedBeforeTraining() throws Exception {
        try (TextTokenizer tok = TextTokenizer.load(Fixtures.dir("tokenizer-bpe")); LlamaModel small = llm(tok, 32, 1);
             LlamaModel large = llm(tok, 48, 2); NeckVpg vpg = NeckVpg.random(16, 6, 3, 8, 2)) {
            LlmIdentity s = LlmIdentity.of("small", small), l = LlmIdentity.of("large", large);
            // a VPG whose query width does not match the projector
            try (Projector p = Projector.random(12, s, 3)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new VlModel(small, tok, vpg, p));
                assertTrue(e.getMessage().contains("8-wide queries") && e.getMessage().contains("takes 12"), e.getMessage());
            }
            // a projector made for another LLM width
            try (Projector p = Projector.random(8, s, 3)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new VlModel(large, tok, vpg, p));
                assertTrue(e.getMessage().contains("32-wide LLM") && e.getMessage().contains("48 wide"), e.getMessage());
            }
            // a converter fitted for another pair (large -> small instead of small -> large)
            try (PointerScope sc = new PointerScope(); Projector src = Projector.random(8, s, 3)) {
                Tensor es = small.params().get("model.embed_tokens.weight"), el = large.params().get("model.embed_tokens.weight");
                TokenPairs pairs = TokenPairs.sameTokenizer(List.of("a red circle", "two blue squares"), tok);
                try (WordConverter wrong = WordConverter.fit(el, es, pairs, new WordConverter.Fit(1, 4, 1, 0), l, s, true)) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Projector.fused(wrong, src, l));
                    assertTrue(e.getMessage().contains("fitted for large"), e.getMessage());
                }
                try (WordConverter right = WordConverter.fit(es, el, pairs, new WordConverter.Fit(1, 4, 1, 0), s, l, true);
                     Projector fused = Projector.fused(right, src, l)) {
                    // fusion = applying both maps
                    Tensor q = torch.randn(new long[] {5, 8}, Tensors.options(ScalarType.Float));
                    Tensor both = right.apply(src.forward(q)), once = fused.forward(q);
                    assertTrue(torch.allclose(both, once, 1e-5, 1e-6, false), "fused projector != converter after source projector");
                    assertEquals(48, fused.llm().hiddenSize());
                }
            }
        }
    }
}
