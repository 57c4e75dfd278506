package io.vladapt.vpg;

import io.vladapt.io.FormatException;
import io.vladapt.io.LlamaLoader;
import io.vladapt.io.SafetensorsFile;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.io.TensorSource;
import io.vladapt.nn.Params;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * VPG weights on disk. VLAdapt's own folder holds qformer.safetensors (canonical names, see
 * {@link QFormerNames}) and qformer_config.json. Also reads an HF BLIP-2 folder (config.json with a
 * qformer_config, model.safetensors or shards; the rest of the model is ignored) and any tensor source
 * in HF, LAVIS or VLAdapt naming, given its config (e.g. a VPGTrans .pth's "model" entry).
 */
public final class QFormerCheckpoint {
    public static final String WEIGHTS = "qformer.safetensors", CONFIG = "qformer_config.json";

    private QFormerCheckpoint() {}

    /** Writes both files into dir (each atomically). */
    public static void save(QFormer m, Path dir) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter.write(dir.resolve(WEIGHTS), new LinkedHashMap<>(m.params().asMap()),
                Map.of("format", "pt", "vladapt", QFormerConfigFiles.MODEL_TYPE));
        QFormerConfigFiles.write(m.config(), dir.resolve(CONFIG));
    }

    /** VLAdapt's folder ({@value #CONFIG} + {@value #WEIGHTS}) or an HF BLIP-2 folder (config.json + weights). */
    public static QFormer load(Path dir) {
        if (Files.isRegularFile(dir.resolve(CONFIG))) {
            QFormerConfig c = QFormerConfigFiles.read(dir.resolve(CONFIG));
            try (TensorSource src = SafetensorsFile.open(dir.resolve(WEIGHTS))) {
                return load(src, c);
            }
        }
        if (Files.isRegularFile(dir.resolve("config.json"))) {
            QFormerConfig c = QFormerConfigFiles.read(dir.resolve("config.json"));
            try (TensorSource src = LlamaLoader.hfWeights(dir)) {
                return load(src, c);
            }
        }
        throw new FormatException(dir + ": neither " + CONFIG + " (a VLAdapt VPG) nor config.json (an HF BLIP-2 model)");
    }

    /**
     * Every tensor the config calls for, under whichever spelling the source uses, checked against the
     * config's shape and converted to float32 trainable leaves. Extra tensors are ignored.
     */
    public static QFormer load(TensorSource src, QFormerConfig c) {
        Params params = new Params();
        try {
            for (Map.Entry<String, long[]> e : QFormer.parameterShapes(c).entrySet()) {
                String file = find(src, e.getKey());
                long[] got = src.info(file).shape();
                if (!Arrays.equals(got, e.getValue())) {
                    String alias = file.equals(e.getKey()) ? "" : " (" + e.getKey() + ")";
                    throw new FormatException(src.describe() + ": tensor '" + file + "'" + alias + " has shape " + Arrays.toString(got)
                            + " but the config implies " + Arrays.toString(e.getValue()) + " (" + summary(c) + ")");
                }
                try (PointerScope scope = new PointerScope()) {
                    Tensor t = src.load(file);
                    params.put(e.getKey(), t.to(ScalarType.Float).contiguous().detach().set_requires_grad(true));
                }
            }
            return new QFormer(c, params);
        } catch (RuntimeException ex) {
            params.close();
            throw ex;
        }
    }

    private static String find(TensorSource src, String name) {
        List<String> names = QFormerNames.candidates(name);
        for (String n : names) {
            if (src.has(n)) return n;
        }
        throw new FormatException(src.describe() + ": missing VPG tensor '" + name + "'"
                + (names.size() > 1 ? " (looked for " + String.join(", ", names) + ")" : ""));
    }

    private static String summary(QFormerConfig c) {
        return "hidden_size " + c.hiddenSize() + ", encoder_hidden_size " + c.encoderHiddenSize() + ", num_query_tokens "
                + c.numQueryTokens() + ", intermediate_size " + c.intermediateSize();
    }
}
