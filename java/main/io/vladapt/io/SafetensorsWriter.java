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
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/** Writes a .safetensors file atomically (temporary file in the same folder, then rename). */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsWriter() {}

    /** Tensors in map order; any device, dtype from {@link DType}; metadata may be empty. */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        Map<String, Long> sizes = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            DType dtype = DType.of(OpCheck.dtype(t));
            long nbytes = t.numel() * dtype.bytes;
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", dtype.safetensorsName);
            ArrayNode shape = entry.putArray("shape");
            for (long d : OpCheck.shape(t)) shape.add(d);
            entry.putArray("data_offsets").add(offset).add(offset + nbytes);
            sizes.put(e.getKey(), nbytes);
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
                for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                    try (PointerScope scope = new PointerScope()) {
                        Tensor c = e.getValue().cpu().contiguous();
                        NativeIO.write(ch, c, sizes.get(e.getKey()));
                    }
                }
                ch.force(true);
            }
        });
    }
}
