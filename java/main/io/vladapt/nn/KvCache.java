package io.vladapt.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Keys and values of past positions, one preallocated (B, Hkv, capacity, hd) buffer per layer, so
 * that a decoding step writes T new positions in place and attends over a view of the filled part.
 */
public final class KvCache implements AutoCloseable {
    private final Tensor[] keys, values;
    private final long capacity;
    private long length;

    public KvCache(LlamaConfig c, long batch, long capacity, ScalarType dtype) {
        this.capacity = capacity;
        keys = new Tensor[c.numLayers()];
        values = new Tensor[c.numLayers()];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = Tensors.zeros(dtype, batch, c.numKvHeads(), capacity, c.headDim()).retainReference();
            values[i] = Tensors.zeros(dtype, batch, c.numKvHeads(), capacity, c.headDim()).retainReference();
        }
    }

    /**
     * A cache over buffers made elsewhere (one (B, Hkv, capacity, hd) tensor per layer, the first
     * {@code length} positions filled): {@link BatchDecoder} regroups rows into new buffers.
     * Takes a reference to each buffer.
     */
    KvCache(Tensor[] keys, Tensor[] values, long length) {
        this.keys = keys.clone();
        this.values = values.clone();
        this.capacity = keys[0].size(2);
        this.length = length;
        for (int i = 0; i < keys.length; i++) {
            this.keys[i].retainReference();
            this.values[i].retainReference();
        }
    }

    /** Layer i's key buffer (B, Hkv, capacity, hd), filled up to {@link #length()}. */
    Tensor keys(int layer) {
        return keys[layer];
    }

    /** Layer i's value buffer (B, Hkv, capacity, hd). */
    Tensor values(int layer) {
        return values[layer];
    }

    int layers() {
        return keys.length;
    }

    /** Positions already cached (the next chunk starts here). */
    public long length() {
        return length;
    }

    public long capacity() {
        return capacity;
    }

    /** Writes this chunk's k, v (B, Hkv, T, hd) after the cached ones; returns keys and values so far. */
    Tensor[] append(int layer, Tensor k, Tensor v) {
        long t = k.size(2);
        if (length + t > capacity) {
            throw new IllegalStateException("KV cache holds " + capacity + " positions; " + length + " + " + t + " do not fit");
        }
        keys[layer].narrow(2, length, t).copy_(k);
        values[layer].narrow(2, length, t).copy_(v);
        return new Tensor[] {keys[layer].narrow(2, 0, length + t), values[layer].narrow(2, 0, length + t)};
    }

    /**
     * Rows {@code rows} of the cache, in that order (beam search: a prompt's rows copied to its beams,
     * then each step the beams' rows follow the hypotheses they continue). Only the filled positions
     * are copied; a new row count gets new buffers of the same capacity.
     *
     * @param rows (B') int64 indices into the current rows
     */
    public void reorder(Tensor rows) {
        try (PointerScope scope = new PointerScope()) {
            Tensor idx = Tensors.onDeviceOf(rows, keys[0]);                                  // (B')
            long n = idx.size(0);
            for (int i = 0; i < keys.length; i++) {
                keys[i] = reorder(keys[i], idx, n);
                values[i] = reorder(values[i], idx, n);
            }
        }
    }

    private Tensor reorder(Tensor buf, Tensor idx, long n) {
        Tensor filled = buf.narrow(2, 0, length).index_select(0, idx);                      // (B', Hkv, length, hd)
        if (n == buf.size(0)) {
            buf.narrow(2, 0, length).copy_(filled);
            return buf;
        }
        Tensor grown = Tensors.zerosLike(buf.scalar_type(), buf, n, buf.size(1), capacity, buf.size(3));  // (B', Hkv, capacity, hd)
        grown.narrow(2, 0, length).copy_(filled);
        grown.retainReference();
        buf.releaseReference();
        return grown;
    }

    /** Called once per forward pass, after every layer appended its chunk. */
    void advance(long t) {
        length += t;
    }

    @Override
    public void close() {
        for (int i = 0; i < keys.length; i++) {
            keys[i].releaseReference();
            values[i].releaseReference();
        }
    }
}
