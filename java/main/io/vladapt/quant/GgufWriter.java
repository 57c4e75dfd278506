package io.vladapt.quant;

import io.vladapt.io.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal GGUF (version 3) writer, for handing llama.cpp the same model shape VLAdapt benchmarks:
 * magic and counts, typed metadata key/values, tensor infos (name, dims innermost first, ggml type,
 * offset), then each tensor's data aligned to 32 bytes. Tensor data is produced in chunks while the
 * file is written, so a 7B-sized file never sits in memory. Little-endian throughout.
 */
public final class GgufWriter {
    private static final int ALIGN = 32;
    private static final int T_UINT32 = 4, T_INT32 = 5, T_FLOAT32 = 6, T_BOOL = 7, T_STRING = 8, T_ARRAY = 9;

    /** ggml tensor types used here: elements per block and bytes per block. */
    public enum GgmlType {
        F32(0, 1, 4), F16(1, 1, 2), Q4_0(2, 32, 18), Q8_0(8, 32, 34), BF16(30, 1, 2);

        public final int id, blockSize, blockBytes;

        GgmlType(int id, int blockSize, int blockBytes) {
            this.id = id;
            this.blockSize = blockSize;
            this.blockBytes = blockBytes;
        }

        public long bytes(long elements) {
            if (elements % blockSize != 0) throw new IllegalArgumentException(this + " needs a multiple of " + blockSize + " elements");
            return elements / blockSize * blockBytes;
        }
    }

    /** Fills {@code dst} (its remaining bytes) with the tensor's bytes starting at {@code offset}. */
    @FunctionalInterface
    public interface Data {
        void fill(ByteBuffer dst, long offset);
    }

    private record TensorEntry(String name, GgmlType type, long[] ne, Data data) {
        long bytes() {
            long n = 1;
            for (long d : ne) n *= d;
            return type.bytes(n);
        }
    }

    private final Map<String, Object> meta = new LinkedHashMap<>();
    private final List<TensorEntry> tensors = new ArrayList<>();

    public GgufWriter putU32(String key, long v) {
        meta.put(key, new long[] {T_UINT32, v});
        return this;
    }

    public GgufWriter putF32(String key, float v) {
        meta.put(key, new float[] {v});
        return this;
    }

    public GgufWriter putBool(String key, boolean v) {
        meta.put(key, v);
        return this;
    }

    public GgufWriter putString(String key, String v) {
        meta.put(key, v);
        return this;
    }

    public GgufWriter putStrings(String key, List<String> v) {
        meta.put(key, List.copyOf(v));
        return this;
    }

    public GgufWriter putF32s(String key, float[] v) {
        meta.put(key, new Object[] {T_FLOAT32, v.clone()});
        return this;
    }

    public GgufWriter putI32s(String key, int[] v) {
        meta.put(key, new Object[] {T_INT32, v.clone()});
        return this;
    }

    /** @param ne dimensions innermost first, as ggml counts them: a (out, in) weight is {in, out} */
    public GgufWriter addTensor(String name, GgmlType type, long[] ne, Data data) {
        tensors.add(new TensorEntry(name, type, ne.clone(), data));
        return this;
    }

    /** Bytes of tensor data the file will hold (without padding). */
    public long dataBytes() {
        return tensors.stream().mapToLong(TensorEntry::bytes).sum();
    }

    public void write(Path path) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        Out o = new Out(head);
        o.u32(0x46554747L);  // "GGUF"
        o.u32(3);
        o.u64(tensors.size());
        o.u64(meta.size() + 1);
        o.str("general.alignment");
        o.u32(T_UINT32);
        o.u32(ALIGN);
        for (Map.Entry<String, Object> e : meta.entrySet()) {
            o.str(e.getKey());
            value(o, e.getValue());
        }
        long offset = 0;
        for (TensorEntry t : tensors) {
            o.str(t.name());
            o.u32(t.ne().length);
            for (long d : t.ne()) o.u64(d);
            o.u32(t.type().id);
            o.u64(offset);
            offset = align(offset + t.bytes());
        }
        while (head.size() % ALIGN != 0) head.write(0);
        byte[] header = head.toByteArray();
        AtomicFiles.write(path, tmp -> {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                writeAll(ch, ByteBuffer.wrap(header));
                ByteBuffer buf = ByteBuffer.allocateDirect(1 << 24).order(ByteOrder.LITTLE_ENDIAN);
                for (TensorEntry t : tensors) {
                    long total = t.bytes();
                    // whole blocks per chunk, so that a filler never splits one
                    int chunk = (1 << 24) / t.type().blockBytes * t.type().blockBytes;
                    for (long done = 0; done < total; done += chunk) {
                        int len = (int) Math.min(chunk, total - done);
                        buf.clear().limit(len);
                        t.data().fill(buf, done);
                        if (buf.position() != len) throw new IllegalStateException(t.name() + ": filler wrote " + buf.position() + " of " + len + " bytes");
                        buf.flip();
                        writeAll(ch, buf);
                    }
                    long pad = align(total) - total;
                    if (pad > 0) writeAll(ch, ByteBuffer.allocate((int) pad));
                }
                ch.force(true);
            }
        });
    }

    private static long align(long n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }

    private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    private static void value(Out o, Object v) {
        if (v instanceof long[] u) {
            o.u32(T_UINT32);
            o.u32(u[1]);
        } else if (v instanceof float[] f) {
            o.u32(T_FLOAT32);
            o.f32(f[0]);
        } else if (v instanceof Boolean b) {
            o.u32(T_BOOL);
            o.u8(b ? 1 : 0);
        } else if (v instanceof String s) {
            o.u32(T_STRING);
            o.str(s);
        } else if (v instanceof List<?> l) {
            o.u32(T_ARRAY);
            o.u32(T_STRING);
            o.u64(l.size());
            for (Object s : l) o.str((String) s);
        } else if (v instanceof Object[] arr && arr[1] instanceof float[] fs) {
            o.u32(T_ARRAY);
            o.u32(T_FLOAT32);
            o.u64(fs.length);
            for (float f : fs) o.f32(f);
        } else if (v instanceof Object[] arr && arr[1] instanceof int[] is) {
            o.u32(T_ARRAY);
            o.u32(T_INT32);
            o.u64(is.length);
            for (int i : is) o.u32(i & 0xffffffffL);
        } else {
            throw new IllegalStateException("unsupported metadata value " + v);
        }
    }

    /** Little-endian primitives and GGUF strings (u64 length + UTF-8 bytes). */
    private static final class Out {
        private final ByteArrayOutputStream out;
        private final ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        Out(ByteArrayOutputStream out) {
            this.out = out;
        }

        void u8(int v) {
            out.write(v);
        }

        void u32(long v) {
            b.clear();
            b.putInt((int) v);
            out.write(b.array(), 0, 4);
        }

        void u64(long v) {
            b.clear();
            b.putLong(v);
            out.write(b.array(), 0, 8);
        }

        void f32(float v) {
            b.clear();
            b.putFloat(v);
            out.write(b.array(), 0, 4);
        }

        void str(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            u64(bytes.length);
            out.write(bytes, 0, bytes.length);
        }
    }
}
