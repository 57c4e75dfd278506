package io.vladapt.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.ext.OpCheck;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/** Writes a .safetensors file atomically (temporary file in the same folder, then rename). */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsWriter() {}

    /** Tensors in map order; any device, dtype from {@link DType}; metadata may be empty. */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Planned> plan = new LinkedHashMap<>();
        tensors.forEach((name, t) -> plan.put(name, new Planned(DType.of(OpCheck.dtype(t)), OpCheck.shape(t), () -> t)));
        writePlanned(path, plan, metadata);
    }

    /** A tensor to write, made only when its turn comes (so a file larger than memory can be written). */
    public record Planned(DType dtype, long[] shape, Supplier<Tensor> make) {}

    /**
     * Writes tensors that are produced one at a time: each {@code make} runs inside its own
     * PointerScope while the file is written, and must return the announced dtype and shape.
     */
    public static void writePlanned(Path path, Map<String, Planned> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Planned> e : tensors.entrySet()) {
            Planned p = e.getValue();
            long nbytes = numel(p.shape()) * p.dtype().bytes;
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", p.dtype().safetensorsName);
            ArrayNode shape = entry.putArray("shape");
            for (long d : p.shape()) shape.add(d);
            entry.putArray("data_offsets").add(offset).add(offset + nbytes);
            offset += nbytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;  // data starts 8-aligned, as the reference writer does
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        AtomicFiles.write(path, tmp -> {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                while (head.hasRemaining()) ch.write(head);
                for (Map.Entry<String, Planned> e : tensors.entrySet()) {
                    Planned p = e.getValue();
                    try (PointerScope scope = new PointerScope()) {
                        Tensor c = p.make().get().cpu().contiguous();
                        if (DType.of(OpCheck.dtype(c)) != p.dtype() || !Arrays.equals(OpCheck.shape(c), p.shape())) {
                            throw new IllegalStateException(e.getKey() + ": produced " + OpCheck.describe(c) + ", announced "
                                    + p.dtype() + " " + Arrays.toString(p.shape()));
                        }
                        NativeIO.write(ch, c, numel(p.shape()) * p.dtype().bytes);
                    }
                }
                ch.force(true);
            }
        });
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }
}
