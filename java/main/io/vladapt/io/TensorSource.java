package io.vladapt.io;

import java.util.Set;
import org.bytedeco.pytorch.Tensor;

/** Named tensors in a checkpoint (one file, a sharded set, a joined Meta checkpoint): read one at a time. */
public interface TensorSource extends AutoCloseable {
    /** The file or folder, for messages. */
    String describe();

    Set<String> names();

    /** Dtype and shape without reading the data; FormatException if the name is absent. */
    TensorInfo info(String name);

    /** Reads one tensor into a new CPU tensor (native memory, owned by the caller's PointerScope). */
    Tensor load(String name);

    default boolean has(String name) {
        return names().contains(name);
    }

    @Override
    void close();
}
