package io.vladapt.train;

import io.vladapt.ext.OpCheck;
import io.vladapt.io.SafetensorsFile;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.nn.Params;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/** Trainable tensors to a safetensors file and back into the same (live) tensors, as checkpoints need. */
public final class ParamFiles {
    private ParamFiles() {}

    public static void save(Params params, Path file, Map<String, String> metadata) throws IOException {
        SafetensorsWriter.write(file, new LinkedHashMap<>(params.asMap()), metadata);
    }

    /** Copies every tensor of {@code params} from the file, in place; a missing name or shape is named. */
    public static void loadInto(Params params, Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file); PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            params.asMap().forEach((n, p) -> {
                if (!f.names().contains(n)) throw new IllegalArgumentException(file + ": no tensor '" + n + "'");
                Tensor t = f.load(n);
                if (!Arrays.equals(OpCheck.shape(t), OpCheck.shape(p))) {
                    throw new IllegalArgumentException(file + ": tensor '" + n + "' has shape " + Arrays.toString(OpCheck.shape(t))
                            + ", the model expects " + Arrays.toString(OpCheck.shape(p)));
                }
                p.copy_(t);
            });
        }
    }
}
