package io.vladapt.nn;

import static io.vladapt.testutil.T.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.io.LlamaLoader;
import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.T;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Tiny random LlamaForCausalLM checkpoints made by transformers and the outputs transformers computed
 * for them (fixtures): logits and hidden states to 1e-4, greedy generations token for token.
 */
class LlamaParityTest {
    static {
        T.opts(ScalarType.Float);  // loads natives, sets threads
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-tied-gqa", "llama-llama3-gqa", "llama-meta"})
    void logitsAndHiddenStatesMatchTransformers(String fixture) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard();
             LlamaModel m = LlamaLoader.load(Fixtures.dir(fixture), ScalarType.Float)) {
            Map<String, Tensor> e = Fixtures.expected(fixture);
            LlamaModel.Output o = m.forward(e.get("input_ids"), true);
            assertClose(fixture + " logits", o.logits(), e.get("logits"), 1e-4);
            assertEquals(m.config().numLayers() + 1, o.hiddenStates().size());
            for (int i = 0; i < o.hiddenStates().size(); i++) {
                assertClose(fixture + " hidden_states." + i, o.hiddenStates().get(i), e.get("hidden_states." + i), 1e-4);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-tied-gqa", "llama-llama3-gqa", "llama-meta"})
    void greedyGenerationMatchesTokenForToken(String fixture) {
        try (PointerScope scope = new PointerScope(); LlamaModel m = LlamaLoader.load(Fixtures.dir(fixture), ScalarType.Float)) {
            Map<String, Tensor> e = Fixtures.expected(fixture);
            long[] prompt = Tensors.toLongs(e.get("greedy_prompt"));
            long[] expected = Tensors.toLongs(e.get("greedy_output"));
            List<long[]> out = new Generator(m, null).generate(List.of(prompt), GenerationConfig.greedy(12).ignoringEos(), null);
            assertArrayEquals(java.util.Arrays.copyOfRange(expected, prompt.length, expected.length), out.get(0),
                    fixture + " greedy continuation");
        }
    }

    /** Two prompts of different lengths in one batch (left padding, per-row positions), as HF generate does. */
    @ParameterizedTest
    @ValueSource(strings = {"llama-tied-gqa", "llama-llama3-gqa"})
    void batchOfDifferentLengthsMatches(String fixture) {
        try (PointerScope scope = new PointerScope(); LlamaModel m = LlamaLoader.load(Fixtures.dir(fixture), ScalarType.Float)) {
            Map<String, Tensor> e = Fixtures.expected(fixture);
            long[] batch = Tensors.toLongs(e.get("batch_prompt")), mask = Tensors.toLongs(e.get("batch_mask"));
            long[] outAll = Tensors.toLongs(e.get("batch_output"));
            int width = (int) e.get("batch_prompt").size(1), outWidth = (int) e.get("batch_output").size(1);
            List<long[]> prompts = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                List<Long> p = new ArrayList<>();
                for (int j = 0; j < width; j++) if (mask[r * width + j] == 1) p.add(batch[r * width + j]);
                prompts.add(p.stream().mapToLong(Long::longValue).toArray());
            }
            List<long[]> got = new Generator(m, null).generate(prompts, GenerationConfig.greedy(8).ignoringEos(), null);
            for (int r = 0; r < 2; r++) {
                long[] want = java.util.Arrays.copyOfRange(outAll, r * outWidth + width, (r + 1) * outWidth);
                assertArrayEquals(want, got.get(r), fixture + " row " + r);
            }
        }
    }

    /** The llama3 fixture must exercise the scaling: without it the logits are measurably different. */
    @Test
    void llama3ScalingMattersInTheFixture() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard();
             LlamaModel m = LlamaLoader.load(Fixtures.dir("llama-llama3-gqa"), ScalarType.Float)) {
            assertTrue(m.config().ropeScaling() != null, "fixture config has rope_scaling");
            Map<String, Tensor> e = Fixtures.expected("llama-llama3-gqa");
            Params shared = m.params();
            LlamaModel plain = new LlamaModel(m.config().withoutRopeScaling(), shared, ScalarType.Float);
            double diff = T.err(plain.forward(e.get("input_ids"), false).logits(), e.get("logits"));
            assertTrue(diff > 1e-3, "logits without llama3 scaling differ by only " + diff);
        }
    }
}
