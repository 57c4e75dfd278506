package io.vladapt.testutil;

import io.vladapt.io.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/** The committed reference fixtures (made by java/test/resources/fixtures/make_fixtures.py). */
public final class Fixtures {
    public static final Path ROOT = Path.of("java/test/resources/fixtures");

    private Fixtures() {}

    public static Path dir(String name) {
        Path p = ROOT.resolve(name);
        if (!Files.isDirectory(p)) throw new IllegalStateException("fixture " + p.toAbsolutePath() + " is missing");
        return p;
    }

    /** Every tensor of a fixture's expected.safetensors (in the caller's PointerScope). */
    public static Map<String, Tensor> expected(String name) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(dir(name).resolve("expected.safetensors"))) {
            for (String n : f.names()) out.put(n, f.load(n));
        }
        return out;
    }
}
