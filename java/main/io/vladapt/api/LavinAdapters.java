package io.vladapt.api;

import io.vladapt.mma.MmaAdapters;
import io.vladapt.mma.MmaCheckpoint;
import io.vladapt.mma.MmaConfig;
import io.vladapt.mma.MmaModel;
import java.nio.file.Files;
import java.nio.file.Path;

/** LaVIN adapters on disk: a folder written by VLAdapt (config inside) or LaVIN's released {@code .pth}. */
public final class LavinAdapters {
    private LavinAdapters() {}

    /** Loads adapters into an existing set of the same shape. */
    public static void load(Path p, MmaAdapters into) {
        if (Files.isDirectory(p)) MmaCheckpoint.load(p, into);
        else MmaCheckpoint.loadLavinPth(p, into);
    }

    /**
     * The MMA model over these backbones with the adapters at {@code adapter}: its shapes come from the
     * folder's config (checked against the backbones), or from {@code pthShape} for a {@code .pth}.
     */
    public static MmaModel open(Backbones b, Path adapter, AdapterShape pthShape) {
        boolean folder = Files.isDirectory(adapter);
        if (!folder && !Files.isRegularFile(adapter)) throw new IllegalArgumentException("no adapter folder or .pth file at " + adapter);
        MmaConfig c = folder ? MmaCheckpoint.config(adapter) : pthShape.config(b.llm().config(), b.vit().config());
        MmaAdapters a = MmaAdapters.init(c, 0);
        try {
            load(adapter, a);                                                  // on the CPU, then to the models' device
            a = a.to(io.vladapt.nn.Tensors.deviceName(b.llm().lmHead()));
        } catch (RuntimeException e) {
            a.close();
            throw e;
        }
        MmaModel m = new MmaModel(b.llm(), b.vit(), a, b.tokenizer());
        try {
            if (folder) MmaCheckpoint.checkBase(MmaCheckpoint.base(adapter), m, adapter);
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }
}
