package io.vladapt.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Meta's model-parallel LLaMA checkpoint (consolidated.00.pth, consolidated.01.pth, ...) seen as one
 * state dict, joined by Meta's rule: embeddings, wo and w2 are split on dim 1; wq, wk, wv, w1, w3
 * and output on dim 0; norms are replicated (and must agree).
 */
public final class MetaCheckpoint implements TensorSource {
    private static final Set<String> DIM0 = Set.of("wq", "wk", "wv", "w1", "w3", "output");
    private static final Set<String> DIM1 = Set.of("wo", "w2", "tok_embeddings");

    private final Path dir;
    private final List<TensorSource> shards;

    private MetaCheckpoint(Path dir, List<TensorSource> shards) {
        this.dir = dir;
        this.shards = shards;
    }

    public static List<Path> shardFiles(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("consolidated\\.\\d+\\.pth")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("listing " + dir, e);
        }
    }

    public static MetaCheckpoint open(Path dir) {
        List<Path> files = shardFiles(dir);
        if (files.isEmpty()) throw new FormatException(dir + ": no consolidated.NN.pth files");
        List<TensorSource> shards = new ArrayList<>();
        try {
            for (Path f : files) shards.add(TorchCheckpoint.open(f).stateDict());
        } catch (RuntimeException e) {
            shards.forEach(TensorSource::close);
            throw e;
        }
        for (TensorSource s : shards) {
            if (!s.names().equals(shards.get(0).names())) {
                throw new FormatException(s.describe() + ": holds different tensor names than " + shards.get(0).describe());
            }
        }
        return new MetaCheckpoint(dir, shards);
    }

    @Override
    public String describe() {
        return dir + " (" + shards.size() + " consolidated shard" + (shards.size() == 1 ? "" : "s") + ")";
    }

    @Override
    public Set<String> names() {
        return shards.get(0).names();
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo first = shards.get(0).info(name);
        long[] shape = first.shape().clone();
        int dim = splitDim(name);
        if (dim >= 0 && shards.size() > 1) shape[dim] *= shards.size();
        return new TensorInfo(name, first.dtype(), shape, describe());
    }

    @Override
    public Tensor load(String name) {
        if (shards.size() == 1) return shards.get(0).load(name);
        int dim = splitDim(name);
        TensorVector parts = new TensorVector();
        for (TensorSource s : shards) parts.push_back(s.load(name));
        if (dim >= 0) return torch.cat(parts, dim);
        Tensor first = parts.get(0);
        for (long i = 1; i < parts.size(); i++) {
            if (!torch.equal(first, parts.get(i))) {
                throw new FormatException(describe() + ": replicated tensor '" + name + "' differs between shards");
            }
        }
        return first;
    }

    /** The dimension a tensor is split on across shards, or -1 when replicated. */
    static int splitDim(String name) {
        String[] parts = name.split("\\.");
        String kind = parts.length >= 2 ? parts[parts.length - 2] : name;
        if (DIM0.contains(kind)) return 0;
        if (DIM1.contains(kind)) return 1;
        return -1;
    }

    @Override
    public void close() {
        shards.forEach(TensorSource::close);
    }
}
