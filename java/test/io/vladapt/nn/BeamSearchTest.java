package io.vladapt.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vladapt.io.LlamaLoader;
import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.T;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import io.vladapt.vpg.VlModel;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Beam search token for token against transformers' generate(num_beams=...) on the tiny random LLaMA
 * (fixtures/beam/make_beam_fixture.py: beams 1 to 5, length penalties 1, 0, -1, 2, 0.5, min_new_tokens
 * past EOS, no-repeat 2/3-grams, a left-padded batch of three prompts, one and two EOS ids, no EOS,
 * early stopping false/true/never, and soft prompts in VlModel's layout fed as inputs_embeds), and one
 * beam equal to greedy decoding on every fixture LLaMA.
 */
class BeamSearchTest {
    static LlamaModel model;

    @BeforeAll
    static void load() {
        T.opts(ScalarType.Float);
        model = LlamaLoader.load(Fixtures.dir("llama-tied-gqa"), ScalarType.Float);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** The same weights (shared, not copied) with other EOS ids. */
    static LlamaModel withEos(LlamaModel base, List<Integer> eos) {
        Params p = new Params();
        base.params().asMap().forEach(p::put);
        return new LlamaModel(base.config().withEosTokenIds(eos), p, ScalarType.Float);
    }

    /** (B, Q, d) soft prompts from nested JSON lists (float32 values). */
    static Tensor soft(JsonNode a, int b) {
        int q = a.get(0).size(), d = a.get(0).get(0).size();
        float[] v = new float[b * q * d];
        for (int r = 0; r < b; r++) for (int i = 0; i < q; i++) for (int j = 0; j < d; j++) v[(r * q + i) * d + j] = (float) a.get(r).get(i).get(j).asDouble();
        return Tensors.floats(v).view(b, q, d);
    }

    static long[] longs(JsonNode a) {
        long[] r = new long[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).asLong();
        return r;
    }

    static GenerationConfig config(JsonNode c) {
        GenerationConfig.EarlyStopping es = GenerationConfig.EarlyStopping.valueOf(c.get("early_stopping").asText().toUpperCase());
        return new GenerationConfig(c.get("max_new").asInt(), 0, 0, 1, 0, List.of(), c.get("eos").size() > 0, c.get("beams").asInt(),
                c.get("length_penalty").asDouble(), c.get("min_new").asInt(), c.get("no_repeat").asInt(), es);
    }

    @Test
    void tokensEqualTransformersBeamSearch() throws IOException {
        JsonNode root = new ObjectMapper().readTree(Fixtures.dir("beam").resolve("expected.json").toFile());
        int cases = 0;
        for (JsonNode c : root.get("cases")) {
            List<Integer> eos = new ArrayList<>();
            c.get("eos").forEach(e -> eos.add(e.asInt()));
            List<long[]> prompts = new ArrayList<>();
            c.get("prompts").forEach(p -> prompts.add(longs(p)));
            GenerationConfig g = config(c);
            String name = c.get("name").asText();
            try (LlamaModel m = withEos(model, eos.isEmpty() ? model.config().eosTokenIds() : eos)) {
                Generator gen = new Generator(m, null);
                List<long[]> got;
                BeamSearch.Result scored;
                if (c.has("soft")) {                                       // VlModel's layout, fed as embeddings
                    try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
                        Generator.Prefill pre = VlModel.prefill(m, soft(root.get("soft"), prompts.size()), prompts, root.get("pad").asLong());
                        got = gen.generate(pre, g, null);
                        scored = BeamSearch.run(m, pre, null, g);
                    }
                } else {
                    got = gen.generate(prompts, g, null);
                    scored = g.numBeams() > 1 ? gen.beamSearch(prompts, g) : null;
                }
                for (int r = 0; r < prompts.size(); r++) {
                    JsonNode e = c.get("expected").get(r);
                    assertArrayEquals(longs(e.get("tokens")), got.get(r), name + ", prompt " + r);
                    if (scored != null) {
                        assertArrayEquals(got.get(r), scored.tokens().get(r), name + ": generate and beamSearch agree");
                        assertEquals(e.get("score").asDouble(), scored.scores()[r], 1e-4, name + ", prompt " + r + " score");
                    }
                }
            }
            cases++;
        }
        assertTrue(cases >= 21, cases + " cases");
    }

    /**
     * Per-row adapter state follows the beams, also when finished prompts leave the batch: a hook that
     * adds each prompt's own vector before attention gives every prompt of a batch its answer alone.
     * EOS ids come from the hooked greedy answers of the first two prompts, so that they finish early
     * (early stopping: once 5 hypotheses finished) while the last one runs on.
     */
    @Test
    void rowStateFollowsTheBeamsWhenPromptsLeave() {
        List<long[]> prompts = List.of(new long[] {12, 99, 7, 250, 31, 64, 5}, new long[] {140, 33, 18}, new long[] {77, 201, 9, 45, 160});
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            long d = model.config().hiddenSize();
            Tensor bias = org.bytedeco.pytorch.global.torch.randn(new long[] {prompts.size(), d}, Tensors.options(ScalarType.Float))
                    .mul(new org.bytedeco.pytorch.Scalar(0.5));                                  // (B, d) one vector per prompt
            List<long[]> greedy = run(model, prompts, bias, GenerationConfig.greedy(6).ignoringEos(), false);
            try (LlamaModel m = withEos(model, List.of((int) greedy.get(0)[2], (int) greedy.get(1)[1]))) {
                GenerationConfig g = GenerationConfig.beams(5, 1.0, 0, 12).withEarlyStopping(GenerationConfig.EarlyStopping.TRUE);
                List<long[]> batch = run(m, prompts, bias, g, true), plain = new Generator(m, null).generate(prompts, g, null);
                boolean changed = false;
                for (int r = 0; r < prompts.size(); r++) {
                    List<long[]> alone = run(m, List.of(prompts.get(r)), bias.narrow(0, r, 1), g, true);
                    assertArrayEquals(alone.get(0), batch.get(r), "prompt " + r + ": batch = alone");
                    changed |= !java.util.Arrays.equals(batch.get(r), plain.get(r));
                }
                assertTrue(batch.get(0).length < 12 && batch.get(1).length < 12, "the first prompts finish early");
                assertTrue(changed, "the hook changes the answers");
            }
        }
    }

    private static List<long[]> run(LlamaModel m, List<long[]> prompts, Tensor bias, GenerationConfig g, boolean beams) {
        Generator.LeftPadded p = Generator.leftPad(prompts, 0);
        Generator.RowHook rows = r -> {
            Tensor b = bias.index_select(0, r).unsqueeze(1);                                     // (B', 1, d)
            return (layer, normed) -> normed.add(b);
        };
        Generator.Prefill pre = new Generator.Prefill(m.embed(p.ids()), p.valid(), Masks.positions(p.valid()),
                rows.forRows(Tensors.longs(java.util.stream.LongStream.range(0, prompts.size()).toArray())), rows);
        return beams ? BeamSearch.run(m, pre, Generator.paddedHistories(prompts, 0), g).tokens() : new Generator(m, null).generate(pre, g, null);
    }

    @Test
    void oneBeamIsGreedyOnEveryFixtureLlama() {
        for (String name : new String[] {"llama-tied-gqa", "llama-llama3-gqa", "llama-meta"}) {
            try (LlamaModel m0 = LlamaLoader.load(Fixtures.dir(name), ScalarType.Float)) {
                List<long[]> prompts = List.of(new long[] {1, 40, 77, 120, 9, 33}, new long[] {5, 6}, new long[] {200, 13, 14, 15});
                Generator gen = new Generator(m0, null);
                List<long[]> greedy = gen.generate(prompts, GenerationConfig.greedy(10), null);
                // an EOS the model reaches: the first prompt's third greedy token
                try (LlamaModel m = withEos(m0, List.of((int) greedy.get(0)[2]))) {
                    Generator g = new Generator(m, null);
                    for (GenerationConfig c : new GenerationConfig[] {GenerationConfig.greedy(10), GenerationConfig.greedy(10).ignoringEos(),
                            GenerationConfig.greedy(10).withLengths(4, 10).withNoRepeatNgram(2)}) {
                        List<long[]> want = g.generate(prompts, c, null);
                        for (double lp : new double[] {1.0, -1.0}) {
                            BeamSearch.Result one = g.beamSearch(prompts, c.withBeams(1, lp));
                            for (int r = 0; r < prompts.size(); r++) {
                                assertArrayEquals(want.get(r), one.tokens().get(r), name + " " + c.describe() + ", prompt " + r);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void badSettingsAreRefusedInOneLine() {
        assertEquals("beams must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(4).withBeams(0, 1)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GenerationConfig.lavin(4, 1).withBeams(3, 1)).getMessage()
                .contains("need temperature 0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(4).withLengths(5, 4)).getMessage()
                .contains("must not exceed max new tokens"));
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(4).withNoRepeatNgram(-1));
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(4).withBeams(2, Double.NaN));
        assertThrows(IllegalArgumentException.class,
                () -> new GenerationConfig(4, 0, 0, 1, 0, List.of("x"), true).withBeams(2, 1));
    }

    @Test
    void noRepeatNgramBansTheTokensThatWouldRepeat() {
        assertEquals(List.of(3L), DecodingRules.banned(new long[] {1, 2, 3, 1, 2}, 3));
        assertEquals(List.of(2L, 9L), DecodingRules.banned(new long[] {1, 2, 1, 9, 1}, 2));
        assertEquals(List.of(), DecodingRules.banned(new long[] {1}, 3));
        assertEquals(List.of(1L, 2L), DecodingRules.banned(new long[] {1, 2}, 1));
    }
}
