package io.vladapt.nn;

import static io.vladapt.testutil.T.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.io.ClipLoader;
import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.T;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A tiny random CLIPVisionModel (HF layout and OpenAI naming) against transformers' outputs. */
class ClipParityTest {
    static {
        T.opts(ScalarType.Float);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "openai.pth"})
    void everyBlockStateMatchesTransformers(String file) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard();
             ClipVisionModel m = file.isEmpty() ? ClipLoader.load(Fixtures.dir("clip-vit"), ScalarType.Float)
                     : ClipLoader.load(Fixtures.dir("clip-vit").resolve(file), ScalarType.Float, 4)) {
            Map<String, Tensor> e = Fixtures.expected("clip-vit");
            ClipVisionModel.Output o = m.forward(e.get("pixel_values"), null, true);
            assertEquals(m.config().numLayers() + 1, o.hiddenStates().size());
            for (int i = 0; i < o.hiddenStates().size(); i++) {
                assertClose("hidden_states." + i, o.hiddenStates().get(i), e.get("hidden_states." + i), 1e-4);
            }
            assertClose("last_hidden_state", o.lastHiddenState(), e.get("last_hidden_state"), 1e-4);
            assertClose("pooler_output", o.pooled(), e.get("pooler_output"), 1e-4);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {48, 40})
    void refusesAResolutionThePositionTableDoesNotHave(int side) {
        try (PointerScope scope = new PointerScope(); ClipVisionModel m = ClipLoader.load(Fixtures.dir("clip-vit"), ScalarType.Float)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.forward(T.randn(ScalarType.Float, 1, 1, 3, side, side), null, false));
            assertTrue(e.getMessage().contains("position table has 17"), e.getMessage());
        }
    }
}
