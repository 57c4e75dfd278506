package io.vladapt.api;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.Tensor;

/**
 * A loaded vision-language model that answers questions about images. Thread-safe: any number of
 * threads may call it at once; their requests are batched into shared decoding steps by the model's
 * generation thread, and each gets the answer it would get alone.
 *
 * <pre>{@code
 * try (VisionLanguageModel m = VisionLanguageModel.lavin(llm, vit, adapter).load()) {
 *     System.out.println(m.chat(ImageInput.of(Path.of("cat.png")), "What animal is this?"));
 * }
 * }</pre>
 */
public final class VisionLanguageModel implements AutoCloseable {
    private final Backend backend;
    private final Engine engine;
    private final long maxImagePixels;
    private boolean closed;

    VisionLanguageModel(Backend backend, int maxBatch, int queueCapacity, long maxImagePixels) {
        this.backend = backend;
        this.maxImagePixels = maxImagePixels;
        this.engine = new Engine(backend, maxBatch, queueCapacity, backend.info().id());
    }

    /**
     * A LaVIN model: a LLaMA-family LLM folder (with its tokenizer), a CLIP ViT (HF folder or
     * OpenAI-format state dict), and MM-Adapters (a folder written by VLAdapt, or LaVIN's {@code .pth}).
     */
    public static ModelLoader lavin(Path llm, Path vit, Path adapter) {
        return new ModelLoader(ModelLoader.Method.LAVIN, llm, vit, adapter, null, null);
    }

    /** A VPGTrans VL model: LLM, CLIP ViT, a VPG folder (Q-Former or neck) and its projector folder. */
    public static ModelLoader vpgTrans(Path llm, Path vit, Path vpg, Path projector) {
        return new ModelLoader(ModelLoader.Method.VPGTRANS, llm, vit, null, vpg, projector);
    }

    public ModelInfo info() {
        return backend.info();
    }

    /** Greedy answer (up to 64 tokens) about an image; null image: text only. */
    public String chat(ImageInput image, String text) {
        return generate(ChatRequest.of(image, text)).text();
    }

    /** Greedy text-only answer (up to 64 tokens). */
    public String chat(String text) {
        return chat(null, text);
    }

    /** Generates to the end. */
    public Completion generate(ChatRequest r) {
        try (TokenStream s = start(r, maxImagePixels, false)) {
            return s.completion();
        }
    }

    /** Generates to the end, handing each new piece of text to {@code onText} in this thread as it comes. */
    public Completion generate(ChatRequest r, Consumer<String> onText) {
        try (TokenStream s = stream(r)) {
            while (s.hasNext()) onText.accept(s.next());
            return s.completion();
        }
    }

    /** Starts a request and returns its stream of text pieces (close it to cancel). */
    public TokenStream stream(ChatRequest r) {
        return stream(r, maxImagePixels);
    }

    /**
     * As {@link #stream(ChatRequest)} with another pixel limit (0 = none). Image decoding and
     * preprocessing run in the calling thread; throws {@link ImageInput.TooLargeException} over the
     * limit, {@link io.vladapt.io.FormatException} for bytes that are not an image, and
     * {@link QueueFullException} when the queue is full.
     */
    public TokenStream stream(ChatRequest r, long maxPixels) {
        return start(r, maxPixels, true);
    }

    /**
     * As {@link #stream(ChatRequest, long)}; with {@code pieces} false the stream delivers only its
     * {@link TokenStream#completion()} (a caller that waits for the whole answer is not woken per token).
     */
    public TokenStream start(ChatRequest r, long maxPixels, boolean pieces) {
        String prompt = backend.render(r.text(), r.template());
        if (r.image() == null) return engine.submit(prompt, null, r.sampling(), pieces);
        try (PointerScope scope = new PointerScope()) {
            Mat bgr = r.image().decode(maxPixels);
            Tensor pixels = backend.pipeline().fromBgr(bgr);                                 // (3, S, S)
            return engine.submit(prompt, pixels, r.sampling(), pieces);
        }
    }

    /** Requests waiting to join the batch. */
    public int waiting() {
        return engine.waiting();
    }

    /** Sequences being decoded now. */
    public int running() {
        return engine.running();
    }

    /**
     * Stops taking requests, lets running and waiting ones finish within {@code grace} (the rest end
     * with an error), then frees the model.
     */
    public synchronized void shutdown(Duration grace) {
        if (closed) return;
        closed = true;
        engine.shutdown(grace.toMillis());
        backend.close();
    }

    @Override
    public void close() {
        shutdown(Duration.ofSeconds(60));
    }
}
