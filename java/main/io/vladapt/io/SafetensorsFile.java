package io.vladapt.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import io.vladapt.nn.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * One .safetensors file: an 8-byte little-endian header length, a JSON header mapping names to
 * {dtype, shape, data_offsets} (plus optional __metadata__), then the data. The header is checked
 * completely when the file opens (offsets inside the file, sizes matching dtype x shape, no
 * overlaps), so a truncated or lying file fails before any tensor is built. Tensors are read one at
 * a time straight into their storage.
 */
public final class SafetensorsFile implements TensorSource {
    private static final long MAX_HEADER = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private record Entry(TensorInfo info, long begin, long end) {}

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, Entry> entries,
                            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + path, e);
        }
        try {
            return parse(path, ch);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static SafetensorsFile parse(Path path, FileChannel ch) {
        try {
            long size = ch.size();
            if (size < 8) throw bad(path, "file is " + size + " bytes, shorter than the 8-byte header length");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (lenBuf.hasRemaining() && ch.read(lenBuf, lenBuf.position()) >= 0) { /* fill */ }
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER) {
                throw bad(path, "header length " + headerLen + " is not plausible (not a safetensors file?)");
            }
            if (8 + headerLen > size) {
                throw bad(path, "header length " + headerLen + " runs past the end of the " + size + "-byte file (truncated?)");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            while (hb.hasRemaining() && ch.read(hb, 8 + hb.position()) >= 0) { /* fill */ }
            JsonNode header;
            try {
                header = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw bad(path, "header is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
            }
            if (header == null || !header.isObject()) throw bad(path, "header is not a JSON object");
            long dataStart = 8 + headerLen, dataLen = size - dataStart;
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("__metadata__")) {
                    f.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                entries.put(f.getKey(), entry(path, f.getKey(), f.getValue(), dataLen));
            }
            checkNoOverlap(path, entries);
            return new SafetensorsFile(path, ch, dataStart, entries, metadata);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + path, e);
        }
    }

    private static Entry entry(Path path, String name, JsonNode e, long dataLen) {
        String where = "tensor '" + name + "'";
        if (!e.isObject()) throw bad(path, where + " is not an object in the header");
        JsonNode dt = e.get("dtype"), shapeNode = e.get("shape"), offs = e.get("data_offsets");
        if (dt == null || !dt.isTextual()) throw bad(path, where + " has no dtype");
        DType dtype = DType.ofSafetensors(dt.asText());
        if (dtype == null) {
            throw bad(path, where + " has dtype " + dt.asText() + ", which VLAdapt does not read "
                    + "(supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
        }
        if (shapeNode == null || !shapeNode.isArray()) throw bad(path, where + " has no shape");
        long[] shape = new long[shapeNode.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToLong() || d.asLong() < 0) throw bad(path, where + " has a bad shape " + shapeNode);
            shape[i] = d.asLong();
            numel = Math.multiplyExact(numel, shape[i]);
        }
        if (offs == null || !offs.isArray() || offs.size() != 2 || !offs.get(0).canConvertToLong()
                || !offs.get(1).canConvertToLong()) {
            throw bad(path, where + " has no [begin, end] data_offsets");
        }
        long begin = offs.get(0).asLong(), end = offs.get(1).asLong();
        long want = Math.multiplyExact(numel, (long) dtype.bytes);
        if (begin < 0 || end < begin) throw bad(path, where + " has data_offsets [" + begin + ", " + end + "]");
        if (end - begin != want) {
            throw bad(path, where + ": data_offsets [" + begin + ", " + end + "] span " + (end - begin) + " bytes but "
                    + dtype.safetensorsName + " " + java.util.Arrays.toString(shape) + " needs " + want);
        }
        if (end > dataLen) {
            throw bad(path, where + ": data_offsets end at " + end + " but the file holds only " + dataLen
                    + " bytes of data (truncated?)");
        }
        return new Entry(new TensorInfo(name, dtype, shape, path.toString()), begin, end);
    }

    private static void checkNoOverlap(Path path, Map<String, Entry> entries) {
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < sorted.size(); i++) {
            Entry a = sorted.get(i - 1), b = sorted.get(i);
            if (b.begin() < a.end()) {
                throw bad(path, "tensors '" + a.info().name() + "' and '" + b.info().name() + "' overlap in the data section");
            }
        }
    }

    @Override
    public String describe() {
        return path.toString();
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(entries.keySet());
    }

    public Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    @Override
    public TensorInfo info(String name) {
        return entry(name).info();
    }

    @Override
    public Tensor load(String name) {
        Entry e = entry(name);
        TensorInfo info = e.info();
        Tensor t = Tensors.empty(info.dtype().scalarType, info.shape());
        NativeIO.read(channel, dataStart + e.begin(), t, e.end() - e.begin(), path + ": tensor '" + name + "'");
        return t;
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new FormatException(path + ": no tensor named '" + name + "'");
        return e;
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing useful to do: the file was only read
        }
    }

    private static FormatException bad(Path path, String message) {
        return new FormatException(path + ": " + message);
    }
}
