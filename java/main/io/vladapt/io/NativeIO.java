package io.vladapt.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;

/**
 * Moves bytes between files and tensor storage directly: nothing passes through the Java heap, and
 * a checkpoint needs about its own size in memory to load (no second copy, no mapping to unmap).
 */
final class NativeIO {
    private static final long CHUNK = 1L << 30;  // ByteBuffers are int-indexed

    private NativeIO() {}

    /** The storage of a contiguous CPU tensor as ByteBuffers of at most 1 GiB each, in order. */
    private static ByteBuffer window(Tensor t, long offset, long length) {
        BytePointer p = new BytePointer(t.data_ptr());
        p.capacity(offset + length).position(offset).limit(offset + length);
        return p.asByteBuffer();
    }

    /** Reads nbytes at position into t (contiguous, CPU, exactly nbytes large). */
    static void read(FileChannel ch, long position, Tensor t, long nbytes, String what) {
        try {
            for (long done = 0; done < nbytes; ) {
                long len = Math.min(CHUNK, nbytes - done);
                ByteBuffer buf = window(t, done, len);
                while (buf.hasRemaining()) {
                    int n = ch.read(buf, position + done + buf.position());
                    if (n < 0) throw new FormatException(what + ": file ends before the tensor's data does");
                }
                done += len;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + what, e);
        }
    }

    /** Reads exactly nbytes from a stream into t. */
    static void read(InputStream in, Tensor t, long nbytes, String what) {
        try {
            ReadableByteChannel ch = Channels.newChannel(in);
            for (long done = 0; done < nbytes; ) {
                long len = Math.min(CHUNK, nbytes - done);
                ByteBuffer buf = window(t, done, len);
                while (buf.hasRemaining()) {
                    if (ch.read(buf) < 0) throw new FormatException(what + ": entry ends before the tensor's data does");
                }
                done += len;
            }
            if (in.read() >= 0) throw new FormatException(what + ": entry holds more bytes than its tensor");
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + what, e);
        }
    }

    /** Writes all of t's storage (contiguous, CPU) at the channel's position. */
    static void write(FileChannel ch, Tensor t, long nbytes) throws IOException {
        for (long done = 0; done < nbytes; ) {
            long len = Math.min(CHUNK, nbytes - done);
            ByteBuffer buf = window(t, done, len);
            while (buf.hasRemaining()) ch.write(buf);
            done += len;
        }
    }
}
