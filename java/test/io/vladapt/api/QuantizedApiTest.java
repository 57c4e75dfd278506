package io.vladapt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.testutil.T;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The public API with quantised backbones: LaVIN (merged == unmerged) and VPGTrans load and answer. */
class QuantizedApiTest {
    static TinyModels t;
    static Path image;

    @BeforeAll
    static void load() throws Exception {
        T.opts(org.bytedeco.pytorch.global.torch.ScalarType.Float);
        t = TinyModels.get();
        image = t.root.resolve("scene-q.png");
        Files.write(image, TinyModels.png(3, 40, 30));
    }

    @Test
    void lavinWithInt4LlmAndInt8VitAnswersTheSameMergedOrNot() {
        try (VisionLanguageModel plain = VisionLanguageModel.lavin(t.wideLlm, t.vit, t.wideAdapter).dtype("float32").quantize("int4")
                .quantizeVit("int8").load();
             VisionLanguageModel merged = VisionLanguageModel.lavin(t.wideLlm, t.vit, t.wideAdapter).dtype("float32").quantize("int4")
                .quantizeVit("int8").merged(true).load()) {
            for (ImageInput img : new ImageInput[] {ImageInput.of(image), null}) {
                String a = plain.generate(ApiTest.greedy(img, "what is this", 8)).text();
                assertEquals(a, merged.generate(ApiTest.greedy(img, "what is this", 8)).text());
                assertFalse(a.isEmpty(), "answered");
            }
        }
    }

    @Test
    void vpgTransWithAnInt8LlmAnswers() {
        try (VisionLanguageModel m = VisionLanguageModel.vpgTrans(t.llm, t.vit, t.vpg, t.projector).dtype("float32").quantize("int8").load()) {
            assertFalse(m.generate(ApiTest.greedy(ImageInput.of(image), "", 6)).text().isEmpty());
        }
    }

    @Test
    void badSchemesAreRefusedBeforeLoading() {
        String m = assertThrows(IllegalArgumentException.class, () -> VisionLanguageModel.lavin(t.llm, t.vit, t.adapter).quantize("int4:64")
                .load()).getMessage();
        assertTrue(m.contains("needs every projection's in_features to be a multiple of the group 64"), m);
        m = assertThrows(IllegalArgumentException.class, () -> VisionLanguageModel.lavin(t.llm, t.vit, t.adapter).quantize("int5").load())
                .getMessage();
        assertTrue(m.contains("bad quantisation scheme 'int5'"), m);
    }
}
