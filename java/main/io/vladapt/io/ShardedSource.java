package io.vladapt.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;

/**
 * A sharded HF checkpoint: {@code model.safetensors.index.json} (or {@code pytorch_model.bin.index.json})
 * whose weight_map names the shard file of every tensor. Shards open when first needed.
 */
public final class ShardedSource implements TensorSource {
    private final Path index;
    private final Map<String, String> weightMap;
    private final Map<String, TensorSource> open = new HashMap<>();

    private ShardedSource(Path index, Map<String, String> weightMap) {
        this.index = index;
        this.weightMap = weightMap;
    }

    public static ShardedSource open(Path index) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(index));
        } catch (IOException e) {
            throw new FormatException(index + ": cannot read the index (" + e.getMessage() + ")", e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) throw new FormatException(index + ": no weight_map object");
        Map<String, String> weightMap = new LinkedHashMap<>();
        map.fields().forEachRemaining(e -> weightMap.put(e.getKey(), e.getValue().asText()));
        Path dir = index.toAbsolutePath().getParent();
        for (String file : new java.util.TreeSet<>(weightMap.values())) {
            if (!Files.isRegularFile(dir.resolve(file))) {
                throw new FormatException(index + ": weight_map names shard " + file + ", which is not in " + dir);
            }
        }
        return new ShardedSource(index, weightMap);
    }

    @Override
    public String describe() {
        return index.toString();
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(weightMap.keySet());
    }

    @Override
    public TensorInfo info(String name) {
        return shard(name).info(name);
    }

    @Override
    public Tensor load(String name) {
        return shard(name).load(name);
    }

    private TensorSource shard(String name) {
        String file = weightMap.get(name);
        if (file == null) throw new FormatException(index + ": no tensor named '" + name + "' in weight_map");
        TensorSource f = open.computeIfAbsent(file, k -> openShard(index.toAbsolutePath().getParent().resolve(k)));
        if (!f.has(name)) throw new FormatException(f.describe() + ": weight_map says it holds '" + name + "', but it does not");
        return f;
    }

    private static TensorSource openShard(Path p) {
        return p.getFileName().toString().endsWith(".safetensors") ? SafetensorsFile.open(p)
                : TorchCheckpoint.open(p).stateDict();
    }

    @Override
    public void close() {
        open.values().forEach(TensorSource::close);
        open.clear();
    }

}
