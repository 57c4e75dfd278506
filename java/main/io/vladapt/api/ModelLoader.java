package io.vladapt.api;

import io.vladapt.ext.Devices;
import io.vladapt.ext.Precision;
import io.vladapt.ext.Threads;
import io.vladapt.io.ClipLoader;
import io.vladapt.io.LlamaLoader;
import io.vladapt.mma.MmaMemory;
import io.vladapt.ext.VlOps;
import io.vladapt.mma.MmaModel;
import io.vladapt.vpg.Projector;
import io.vladapt.vpg.VlDataset;
import io.vladapt.vpg.Vpg;
import io.vladapt.vpg.Vpgs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Where a model's files are and how to load them (DJL's Criteria in spirit): start from
 * {@link VisionLanguageModel#lavin} or {@link VisionLanguageModel#vpgTrans}, set options, then {@link #load()}.
 */
public final class ModelLoader {
    enum Method { LAVIN, VPGTRANS }

    private final Method method;
    private final Path llm, vit, adapter, vpg, projector;
    private String dtype = "auto", device = "cpu", quantize, quantizeVit;
    private Integer threads;
    private boolean merged;
    private Preprocess preprocess;
    private String template, id;
    private int vitHeads;
    private AdapterShape pthShape = AdapterShape.LAVIN;
    private int maxBatch = 16, queueCapacity = 64;
    private long maxImagePixels = 40_000_000;

    ModelLoader(Method method, Path llm, Path vit, Path adapter, Path vpg, Path projector) {
        this.method = method;
        this.llm = llm;
        this.vit = vit;
        this.adapter = adapter;
        this.vpg = vpg;
        this.projector = projector;
    }

    /**
     * The frozen weights' dtype: "auto" (default: bfloat16 where the CPU multiplies it natively, AMX or
     * AVX512-BF16, or on CUDA; float32 elsewhere), "float32", "bfloat16", "float16".
     */
    public ModelLoader dtype(String d) {
        this.dtype = d;
        return this;
    }

    /**
     * Weight-only quantisation of the LLM's frozen projections as they load: "int8" (per output channel),
     * "int4" (groups of 128), "int4:64", "int4:32" (CPU only; null: dense). A pre-quantised folder
     * (compressed-tensors) loads quantised without it. LaVIN answers come from the unmerged adapters then,
     * even with {@link #merged}: adapters cannot fold into quantised weights.
     */
    public ModelLoader quantize(String scheme) {
        this.quantize = scheme;
        return this;
    }

    /** The same for the ViT's projections (default: dense). */
    public ModelLoader quantizeVit(String scheme) {
        this.quantizeVit = scheme;
        return this;
    }

    /** "cpu" (default), "cuda" or "cuda:N" (the GPU build). */
    public ModelLoader device(String d) {
        this.device = d;
        return this;
    }

    /** libtorch and OpenBLAS threads (process-wide); unset leaves them as they are. */
    public ModelLoader threads(int n) {
        this.threads = n;
        return this;
    }

    /** LaVIN: fold each modality's LLM adapters into q/k/v (re-parameterisation); same answers, no adapter cost. */
    public ModelLoader merged(boolean m) {
        this.merged = m;
        return this;
    }

    /** Image preprocessing (default: LAVIN for LaVIN models, CLIP for VPGTrans models). */
    public ModelLoader preprocess(Preprocess p) {
        this.preprocess = p;
        return this;
    }

    /**
     * How request text is wrapped ({@code {prompt}} marks it). Default: LaVIN's chatbot format
     * "Instruction: {prompt}\nResponse:"; VPGTrans: "Question: {prompt} Answer:" (empty text: a caption).
     */
    public ModelLoader template(String t) {
        if (!t.contains("{prompt}")) throw new IllegalArgumentException("template must contain {prompt}: " + t);
        this.template = t;
        return this;
    }

    /** The name the model is served under (default: the adapter's or VPG's folder name). */
    public ModelLoader id(String name) {
        this.id = name;
        return this;
    }

    /** Head count of an OpenAI-format ViT state dict (default: width / 64). */
    public ModelLoader vitHeads(int h) {
        this.vitHeads = h;
        return this;
    }

    /** Shapes of a LaVIN {@code .pth} adapter, which has no config file (default: LaVIN-7B's). */
    public ModelLoader pthShape(AdapterShape s) {
        this.pthShape = s;
        return this;
    }

    /** Most sequences decoded together (default 16). */
    public ModelLoader maxBatch(int n) {
        this.maxBatch = n;
        return this;
    }

    /** Most requests waiting to join the batch; more are refused with {@link QueueFullException} (default 64). */
    public ModelLoader queueCapacity(int n) {
        this.queueCapacity = n;
        return this;
    }

    /** Images over this many pixels are refused before decoding (default 40 M; 0 = no limit). */
    public ModelLoader maxImagePixels(long n) {
        this.maxImagePixels = n;
        return this;
    }

    /** Loads the backbones and the method's parts and starts the model's generation thread. */
    public VisionLanguageModel load() {
        VlOps.load();
        if (threads != null) Threads.set(threads);
        if (Devices.isCpu(device)) {
            // refuse before loading what cannot fit: the weights and one sequence's cache (batches grow it later)
            var lc = LlamaLoader.config(llm);
            MmaMemory.checkInference("loading the model", lc, ClipLoader.config(vit, vitHeads), Backbones.dtype(dtype, device),
                    Backbones.quantization(llm, vit, quantize, quantizeVit), 1, Math.min(1024, lc.maxPositions()));
        }
        Backbones b = Backbones.load(llm, vit, dtype, device, vitHeads, quantize, quantizeVit);
        try {
            Backend backend = method == Method.LAVIN ? lavin(b) : vpgTrans(b);
            return new VisionLanguageModel(backend, maxBatch, queueCapacity, maxImagePixels);
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
    }

    private Backend lavin(Backbones b) {
        MmaModel m = LavinAdapters.open(b, adapter, pthShape);
        ModelInfo info = new ModelInfo(id != null ? id : name(adapter), "lavin", llm.toString(), vit.toString(),
                b.llm().config().maxPositions(), Precision.name(b.dtype()));
        return new LavinBackend(b, m, merged, preprocess != null ? preprocess : Preprocess.LAVIN,
                template != null ? template : "Instruction: {prompt}\nResponse:", info);
    }

    private Backend vpgTrans(Backbones b) {
        if (merged) throw new IllegalArgumentException("merged applies to LaVIN adapters; a VPGTrans model has none");
        Vpg v;
        try {
            v = Vpgs.load(vpg);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the VPG in " + vpg, e);
        }
        try {
            Projector p = Projector.load(projector);
            ModelInfo info = new ModelInfo(id != null ? id : name(vpg), "vpgtrans", llm.toString(), vit.toString(),
                    b.llm().config().maxPositions(), Precision.name(b.dtype()));
            return new VpgTransBackend(b, v, p, preprocess != null ? preprocess : Preprocess.CLIP,
                    template != null ? template : VlDataset.vqaPrompt("{prompt}"), info);
        } catch (IOException e) {
            v.close();
            throw new UncheckedIOException("cannot read the projector in " + projector, e);
        } catch (RuntimeException e) {
            v.close();
            throw e;
        }
    }

    private static String name(Path p) {
        Path f = p.toAbsolutePath().normalize();
        String n = f.getFileName().toString();
        // runs/lavin/adapter -> "lavin"; a bare folder keeps its own name
        return (n.equals("adapter") || n.equals("vpg")) && f.getParent() != null ? f.getParent().getFileName().toString() : n;
    }
}
