package io.vladapt.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.ext.OpCheck;
import io.vladapt.nn.Tensors;
import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.T;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writing and reading safetensors, and every way a file can be bad. */
class SafetensorsTest {
    static {
        T.opts(ScalarType.Float);
    }

    @TempDir
    Path tmp;

    @Test
    void roundTripsEveryDtypeAndMetadata() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> ts = new LinkedHashMap<>();
            Tensor base = T.randn(ScalarType.Float, 1, 3, 4);
            ts.put("f32", base);
            ts.put("f16", base.to(ScalarType.Half));
            ts.put("bf16", base.to(ScalarType.BFloat16));
            ts.put("f64", base.to(ScalarType.Double));
            ts.put("i64", Tensors.longs(1, -2, 3));
            ts.put("transposed", base.t());                     // non-contiguous input is written contiguously
            ts.put("scalar", Tensors.floats(2.5f).view());
            ts.put("empty", Tensors.zeros(ScalarType.Float, 0, 7));
            Path p = tmp.resolve("t.safetensors");
            SafetensorsWriter.write(p, ts, Map.of("format", "pt"));
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                assertEquals(ts.keySet(), f.names());
                assertEquals("pt", f.metadata().get("format"));
                for (String n : ts.keySet()) {
                    Tensor got = f.load(n);
                    assertEquals(OpCheck.dtype(ts.get(n)), OpCheck.dtype(got), n);
                    assertTrue(torch.equal(got, ts.get(n)), n);
                }
            }
            try (var files = Files.list(tmp)) {
                assertEquals(1, files.count(), "no temporary file left behind");
            }
        }
    }

    /** A valid file with one f32 tensor "w" of 6 values, then the bytes are edited by each test. */
    Path file(String headerJson, int dataBytes) throws IOException {
        byte[] h = headerJson.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = tmp.resolve("bad.safetensors");
        Files.write(p, b.array());
        return p;
    }

    static void refused(Path p, String... fragments) {
        FormatException e = assertThrows(FormatException.class, () -> SafetensorsFile.open(p).close());
        assertTrue(e.getMessage().startsWith(p.toString()), "names the file: " + e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), e.getMessage() + " should contain " + f);
    }

    @Test
    void truncatedFile() throws IOException {
        Path good = Fixtures.dir("clip-vit").resolve("model.safetensors");
        byte[] all = Files.readAllBytes(good);
        Path p = tmp.resolve("truncated.safetensors");
        Files.write(p, java.util.Arrays.copyOf(all, all.length - 100));
        refused(p, "bytes of data (truncated?)");
        Files.write(p, java.util.Arrays.copyOf(all, 20));
        refused(p, "runs past the end", "(truncated?)");
        Files.write(p, java.util.Arrays.copyOf(all, 5));
        refused(p, "shorter than the 8-byte header length");
    }

    @Test
    void headerThatLiesAboutOffsets() throws IOException {
        refused(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 24),
                "tensor 'w': data_offsets [0, 20] span 20 bytes but F32 [2, 3] needs 24");
        refused(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,32]}}", 24),
                "tensor 'w': data_offsets end at 32 but the file holds only 24 bytes");
        refused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 24), "'a' and 'b' overlap");
        refused(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-3],\"data_offsets\":[0,24]}}", 24), "bad shape");
        refused(file("{\"w\": not json", 24), "header is not valid JSON");
    }

    @Test
    void unsupportedDtype() throws IOException {
        refused(file("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4),
                "tensor 'w' has dtype F8_E4M3, which VLAdapt does not read");
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(Fixtures.dir("clip-vit").resolve("model.safetensors"))) {
            FormatException e = assertThrows(FormatException.class, () -> f.load("vision_model.nope.weight"));
            assertTrue(e.getMessage().contains("no tensor named 'vision_model.nope.weight'"), e.getMessage());
        }
    }
}
