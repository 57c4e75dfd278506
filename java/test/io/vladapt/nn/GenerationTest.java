package io.vladapt.nn;

import static io.vladapt.testutil.T.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.io.LlamaLoader;
import io.vladapt.io.TextTokenizer;
import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.T;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** KV-cache decoding, sampling settings and stop conditions on the tiny fixture model. */
class GenerationTest {
    static LlamaModel model;
    static TextTokenizer tok;
    static final long[] PROMPT = {1, 40, 77, 120, 9, 33};

    @BeforeAll
    static void load() {
        T.opts(ScalarType.Float);
        model = LlamaLoader.load(Fixtures.dir("llama-tied-gqa"), ScalarType.Float);
        tok = TextTokenizer.load(Fixtures.dir("llama-tied-gqa"));
    }

    @AfterAll
    static void close() {
        model.close();
        tok.close();
    }

    @Test
    void cachedStepByStepLogitsEqualTheFullForward() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard();
             KvCache cache = new KvCache(model.config(), 1, PROMPT.length, ScalarType.Float)) {
            Tensor ids = Tensors.longs(PROMPT).view(1, PROMPT.length);
            Tensor full = model.forward(ids, false).logits();                          // (1, T, V)
            Tensor valid = Tensors.full(ScalarType.Bool, 1, 1, PROMPT.length);
            // first 3 tokens as one chunk, then one token at a time
            long[] chunks = {3, 1, 1, 1};
            long pos = 0;
            for (long n : chunks) {
                Tensor in = ids.narrow(1, pos, n);
                Tensor positions = torch.arange(new Scalar(pos), new Scalar(pos + n), Tensors.options(ScalarType.Long)).view(1, n);
                Tensor mask = Masks.causal(valid.narrow(1, 0, pos + n), n, pos);
                Tensor logits = model.forward(new LlamaModel.Input(model.embed(in), positions, mask, cache, null, false)).logits();
                assertClose("logits of positions " + pos + ".." + (pos + n - 1), logits, full.narrow(1, pos, n), 1e-5);
                pos += n;
            }
            assertEquals(PROMPT.length, cache.length());
        }
    }

    @Test
    void samplingIsSeededAndItsLimitsBehave() {
        Generator gen = new Generator(model, tok::decode);
        GenerationConfig hot = new GenerationConfig(10, 1.5, 0, 1.0, 42, List.of(), false);
        long[] a = gen.generate(List.of(PROMPT), hot, null).get(0);
        long[] b = gen.generate(List.of(PROMPT), hot, null).get(0);
        assertArrayEquals(a, b, "same seed, same tokens");
        long[] c = gen.generate(List.of(PROMPT), new GenerationConfig(10, 1.5, 0, 1.0, 43, List.of(), false), null).get(0);
        assertFalse(Arrays.equals(a, c), "another seed at temperature 1.5 samples something else");
        long[] greedy = gen.generate(List.of(PROMPT), GenerationConfig.greedy(10).ignoringEos(), null).get(0);
        assertArrayEquals(greedy, gen.generate(List.of(PROMPT), new GenerationConfig(10, 1.5, 1, 1.0, 7, List.of(), false), null).get(0),
                "top-k 1 is greedy at any temperature");
        assertArrayEquals(greedy, gen.generate(List.of(PROMPT), new GenerationConfig(10, 1.5, 0, 1e-6, 7, List.of(), false), null).get(0),
                "a tiny top-p keeps only the most likely token");
    }

    @Test
    void stopStringEndsTheRowAndIsNotReturned() {
        Generator gen = new Generator(model, tok::decode);
        long[] greedy = gen.generate(List.of(PROMPT), GenerationConfig.greedy(10).ignoringEos(), null).get(0);
        String text = tok.decode(greedy);
        String stop = text.substring(Math.max(1, text.length() / 2)).trim();
        assertFalse(stop.isEmpty());
        long[] cut = gen.generate(List.of(PROMPT), new GenerationConfig(10, 0, 0, 1, 0, List.of(stop), false), null).get(0);
        assertTrue(cut.length < greedy.length, "stopped early");
        assertFalse(tok.decode(cut).contains(stop), "the stop string is not returned");
        assertArrayEquals(Arrays.copyOf(greedy, cut.length), cut, "the same tokens up to the stop");
    }

    @Test
    void eosEndsTheRow() {
        // make EOS the greedy choice after the prompt: EOS id 2 must then end generation at once
        long[] greedy = new Generator(model, null).generate(List.of(PROMPT), GenerationConfig.greedy(3).ignoringEos(), null).get(0);
        LlamaConfig c = model.config();
        LlamaConfig eosIsFirst = new LlamaConfig(c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numLayers(), c.numHeads(),
                c.numKvHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(), c.ropeScaling(), c.maxPositions(),
                c.tieWordEmbeddings(), c.attentionBias(), c.bosTokenId(), List.of((int) greedy[1]), c.padTokenId(), c.dtype());
        LlamaModel m = new LlamaModel(eosIsFirst, model.params(), ScalarType.Float);
        long[] out = new Generator(m, null).generate(List.of(PROMPT), GenerationConfig.greedy(3), null).get(0);
        assertArrayEquals(new long[] {greedy[0]}, out, "generation stops at the EOS id, which is not returned");
    }

    @Test
    void promptsOutsideTheVocabularyAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Generator(model, null).generate(List.of(new long[] {1, 300}), GenerationConfig.greedy(2), null));
        assertTrue(e.getMessage().contains("token id 300, outside the model's vocabulary of 300"), e.getMessage());
    }

    @Test
    void bfloat16WeightsGiveCloseLogits() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard();
             LlamaModel bf = LlamaLoader.load(Fixtures.dir("llama-tied-gqa"), ScalarType.BFloat16)) {
            Tensor ids = Tensors.longs(PROMPT).view(1, PROMPT.length);
            Tensor l32 = model.forward(ids, false).logits(), l16 = bf.forward(ids, false).logits().to(ScalarType.Float);
            double scale = l32.abs().max().item_double();
            double err = l16.sub(l32).abs().max().item_double() / scale;
            assertTrue(err < 0.05, "bf16 logits within 5% of the float32 range, got " + err);
        }
    }
}
