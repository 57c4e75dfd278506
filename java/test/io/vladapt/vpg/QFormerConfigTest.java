package io.vladapt.vpg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.io.FormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Q-Former configs from HF BLIP-2 config.json files (as written by transformers 4 and 5) and VLAdapt's own JSON. */
class QFormerConfigTest {
    private static Path write(Path dir, String json) throws Exception {
        Path p = dir.resolve("config.json");
        Files.writeString(p, json);
        return p;
    }

    /**
     * Salesforce/blip2-opt-2.7b (transformers 4.47) keeps almost nothing in qformer_config and vision_config:
     * transformers' defaults fill in. A transformers 4 file written in full (position_embedding_type spelled
     * out) shows that Blip2Config overwrites qformer_config.encoder_hidden_size with the vision width.
     */
    static Stream<Arguments> blip2Configs() {
        String hub = "{\"architectures\": [\"Blip2ForConditionalGeneration\"], \"model_type\": \"blip-2\","
                + " \"num_query_tokens\": 32, \"qformer_config\": {\"classifier_dropout\": null, \"model_type\": \"blip_2_qformer\"},"
                + " \"text_config\": {\"model_type\": \"opt\", \"hidden_size\": 2560}, \"torch_dtype\": \"float32\","
                + " \"vision_config\": {\"dropout\": 0.0, \"model_type\": \"blip_2_vision_model\", \"num_channels\": 3}}";
        String full = "{\"model_type\": \"blip-2\", \"num_query_tokens\": 16, \"qformer_config\": {\"hidden_size\": 64,"
                + " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"intermediate_size\": 128, \"encoder_hidden_size\": 1408,"
                + " \"cross_attention_frequency\": 1, \"position_embedding_type\": \"absolute\", \"layer_norm_eps\": 1e-6,"
                + " \"hidden_dropout_prob\": 0.0, \"attention_probs_dropout_prob\": 0.05},"
                + " \"vision_config\": {\"hidden_size\": 1024, \"layer_norm_eps\": 1e-5}}";
        return Stream.of(Arguments.of(hub, new QFormerConfig(768, 12, 12, 3072, 2, 1408, 32, 1e-12, 1e-6, 0.1, 0.1)),
                Arguments.of(full, new QFormerConfig(64, 2, 4, 128, 1, 1024, 16, 1e-6, 1e-5, 0.0, 0.05)));
    }

    @ParameterizedTest
    @MethodSource("blip2Configs")
    void blip2ConfigJsonReadsAsTransformersDoes(String json, QFormerConfig expected, @TempDir Path dir) throws Exception {
        assertEquals(expected, QFormerConfigFiles.read(write(dir, json)));
    }

    @Test
    void ownFileRoundTrips(@TempDir Path dir) throws Exception {
        QFormerConfig c = QFormerConfig.blip2(1024);
        Path p = dir.resolve("qformer_config.json");
        QFormerConfigFiles.write(c, p);
        assertEquals(c, QFormerConfigFiles.read(p));
        assertTrue(Files.readString(p).contains("\"cross_attention_frequency\" : 2"), Files.readString(p));
    }

    @Test
    void badFilesNameTheField(@TempDir Path dir) throws Exception {
        String missing = assertThrows(FormatException.class, () -> QFormerConfigFiles.read(write(dir,
                "{\"model_type\": \"vladapt-qformer\", \"hidden_size\": 32}"))).getMessage();
        assertTrue(missing.contains("'num_hidden_layers' is missing"), missing);
        String act = assertThrows(FormatException.class, () -> QFormerConfigFiles.read(write(dir,
                "{\"qformer_config\": {\"hidden_act\": \"relu\"}}"))).getMessage();
        assertTrue(act.contains("qformer_config.hidden_act 'relu'"), act);
        String type = assertThrows(FormatException.class, () -> QFormerConfigFiles.read(write(dir,
                "{\"qformer_config\": {\"num_hidden_layers\": \"twelve\"}}"))).getMessage();
        assertTrue(type.contains("'qformer_config.num_hidden_layers' is not an integer"), type);
        String other = assertThrows(FormatException.class, () -> QFormerConfigFiles.read(write(dir,
                "{\"model_type\": \"llama\"}"))).getMessage();
        assertTrue(other.contains("neither a BLIP-2 config.json"), other);
        String heads = assertThrows(IllegalArgumentException.class,
                () -> new QFormerConfig(30, 1, 4, 8, 2, 8, 4, 1e-12, 1e-5, 0.1, 0.1)).getMessage();
        assertTrue(heads.contains("hidden_size 30 is not a multiple of num_attention_heads 4"), heads);
    }
}
