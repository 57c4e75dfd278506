package io.vladapt.io;

import io.vladapt.io.TorchUnpickler.StorageRef;
import io.vladapt.io.TorchUnpickler.TensorRef;
import io.vladapt.nn.Tensors;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A file written by torch.save (torch >= 1.6): a zip archive holding {@code <name>/data.pkl} (the
 * pickled object) and {@code <name>/data/<key>} (one entry per storage). libtorch's own pickle_load
 * cannot read state dicts (OrderedDict), so this reads the pickle with {@link TorchUnpickler} and
 * rebuilds each tensor as a strided view of its storage, as torch.load does (views of one storage
 * share it; each storage is read once).
 */
public final class TorchCheckpoint implements AutoCloseable {
    private final Path path;
    private final ZipFile zip;
    private final String prefix;
    private final Object root;
    private final Map<String, Tensor> storages = new HashMap<>();
    private final Map<String, Integer> viewsLeft = new HashMap<>();

    private TorchCheckpoint(Path path, ZipFile zip, String prefix, Object root) {
        this.path = path;
        this.zip = zip;
        this.prefix = prefix;
        this.root = root;
        countViews(root);
    }

    /** How many tensors view each storage: a storage is kept only until its last view is built. */
    private void countViews(Object o) {
        if (o instanceof TensorRef t) viewsLeft.merge(t.storage().key(), 1, Integer::sum);
        else if (o instanceof Map<?, ?> m) m.values().forEach(this::countViews);
        else if (o instanceof java.util.List<?> l) l.forEach(this::countViews);
        else if (o instanceof TorchUnpickler.Tuple t) t.items().forEach(this::countViews);
        else if (o instanceof TorchUnpickler.PlainObject p) p.attributes().values().forEach(this::countViews);
    }

    public static TorchCheckpoint open(Path path) {
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (ZipException e) {
            throw new FormatException(path + ": not a zip archive; torch.save files from torch < 1.6 (legacy format) "
                    + "and other formats are not read (re-save with a recent torch, or convert to safetensors)", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + path, e);
        }
        try {
            String pkl = null;
            for (Enumeration<? extends ZipEntry> es = zip.entries(); es.hasMoreElements(); ) {
                String n = es.nextElement().getName();
                if (n.endsWith("/data.pkl") && n.indexOf('/') == n.length() - "/data.pkl".length()) {
                    if (pkl != null) throw new FormatException(path + ": holds two data.pkl entries");
                    pkl = n;
                }
            }
            if (pkl == null) throw new FormatException(path + ": no <name>/data.pkl entry: not a torch.save archive");
            String prefix = pkl.substring(0, pkl.length() - "data.pkl".length());
            ZipEntry order = zip.getEntry(prefix + "byteorder");
            if (order != null) {
                String bo = new String(read(zip, order, path), StandardCharsets.US_ASCII).trim();
                if (!bo.equals("little")) throw new FormatException(path + ": byteorder is '" + bo + "'; only little-endian is read");
            }
            Object root = TorchUnpickler.load(path + " (" + pkl + ")", read(zip, zip.getEntry(pkl), path));
            return new TorchCheckpoint(path, zip, prefix, root);
        } catch (RuntimeException e) {
            try {
                zip.close();
            } catch (IOException ignored) {
                // already failing
            }
            throw e;
        }
    }

    private static byte[] read(ZipFile zip, ZipEntry e, Path path) {
        try (InputStream in = zip.getInputStream(e)) {
            return in.readAllBytes();
        } catch (IOException ex) {
            throw new UncheckedIOException(path + ": cannot read " + e.getName(), ex);
        }
    }

    /** The unpickled object: maps, lists, tuples, numbers, strings and tensor references. */
    public Object root() {
        return root;
    }

    /**
     * The tensors of a state dict inside the checkpoint: {@code keys} walks nested dicts from the root
     * (none: the root itself, e.g. a plain state dict; "model": LaVIN's adapter checkpoints). Entries
     * that are not tensors (epoch counters, args) are left out.
     */
    public TensorSource stateDict(String... keys) {
        Object o = root;
        StringBuilder at = new StringBuilder("root");
        for (String k : keys) {
            if (!(o instanceof Map<?, ?> m) || !m.containsKey(k)) {
                throw new FormatException(path + ": " + at + " has no key '" + k + "'");
            }
            o = m.get(k);
            at.append("['").append(k).append("']");
        }
        if (!(o instanceof Map<?, ?> m)) throw new FormatException(path + ": " + at + " is not a dict of tensors");
        Map<String, TensorRef> tensors = new LinkedHashMap<>();
        m.forEach((k, v) -> {
            if (v instanceof TensorRef t) tensors.put(String.valueOf(k), t);
        });
        return new StateDict(at.toString(), tensors);
    }

    /** Builds the tensor a reference describes (a view of its storage; storages are read once). */
    public Tensor tensor(TensorRef ref) {
        // a storage viewed by several tensors is read once and kept (retained, beyond the caller's
        // PointerScope) until its last view is built; each view holds its own reference to the data
        String key = ref.storage().key();
        Tensor storage = storages.computeIfAbsent(key, k -> readStorage(ref.storage()).retainReference());
        long need = ref.offset();
        for (int i = 0; i < ref.size().length; i++) {
            if (ref.size()[i] > 0) need += (ref.size()[i] - 1) * ref.stride()[i];
        }
        if (ref.offset() < 0 || (numel(ref.size()) > 0 && need >= ref.storage().numel())) {
            throw new FormatException(path + ": a tensor view reaches element " + need + " of storage "
                    + ref.storage().key() + ", which holds " + ref.storage().numel());
        }
        Tensor view = torch.as_strided(storage, ref.size(), ref.stride(), new org.bytedeco.pytorch.LongOptional(ref.offset()));
        if (viewsLeft.merge(key, -1, Integer::sum) <= 0) storages.remove(key).releaseReference();
        return view;
    }

    private Tensor readStorage(StorageRef s) {
        String name = prefix + "data/" + s.key();
        ZipEntry e = zip.getEntry(name);
        if (e == null) throw new FormatException(path + ": storage entry " + name + " is missing");
        long nbytes = s.numel() * s.dtype().bytes;
        if (e.getSize() >= 0 && e.getSize() != nbytes) {
            throw new FormatException(path + ": " + name + " holds " + e.getSize() + " bytes, but the pickle says "
                    + s.numel() + " x " + s.dtype() + " = " + nbytes);
        }
        Tensor t = Tensors.empty(s.dtype().scalarType, s.numel());
        try (InputStream in = zip.getInputStream(e)) {
            NativeIO.read(in, t, nbytes, path + ": " + name);
        } catch (IOException ex) {
            throw new UncheckedIOException(path + ": cannot read " + name, ex);
        }
        return t;
    }

    private static long numel(long[] size) {
        long n = 1;
        for (long d : size) n *= d;
        return n;
    }

    @Override
    public void close() {
        storages.values().forEach(Tensor::releaseReference);
        storages.clear();
        try {
            zip.close();
        } catch (IOException ignored) {
            // read-only
        }
    }

    /** A dict of tensors inside the checkpoint, as a TensorSource. */
    private final class StateDict implements TensorSource {
        private final String at;
        private final Map<String, TensorRef> tensors;

        StateDict(String at, Map<String, TensorRef> tensors) {
            this.at = at;
            this.tensors = tensors;
        }

        @Override
        public String describe() {
            return path + " " + at;
        }

        @Override
        public Set<String> names() {
            return Collections.unmodifiableSet(tensors.keySet());
        }

        @Override
        public TensorInfo info(String name) {
            TensorRef r = ref(name);
            return new TensorInfo(name, r.storage().dtype(), r.size(), path.toString());
        }

        @Override
        public Tensor load(String name) {
            return tensor(ref(name));
        }

        private TensorRef ref(String name) {
            TensorRef r = tensors.get(name);
            if (r == null) throw new FormatException(describe() + ": no tensor named '" + name + "'");
            return r;
        }

        @Override
        public void close() {
            TorchCheckpoint.this.close();
        }
    }

    static boolean isZip(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            byte[] m = in.readNBytes(4);
            return m.length == 4 && m[0] == 'P' && m[1] == 'K' && m[2] == 3 && m[3] == 4;
        }
    }
}
