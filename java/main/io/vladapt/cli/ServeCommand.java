package io.vladapt.cli;

import io.vladapt.api.ModelLoader;
import io.vladapt.api.Preprocess;
import io.vladapt.api.VisionLanguageModel;
import io.vladapt.serve.OpenAiServer;
import io.vladapt.serve.ServerOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code vladapt serve}: an OpenAI-compatible HTTP server for a LaVIN or VPGTrans model. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "OpenAI-compatible server: POST /v1/chat/completions (text + image_url parts, SSE streaming), GET /v1/models, GET /health.")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--lm", required = true, description = "LLaMA-family model folder with its tokenizer")
    Path lm;

    @Option(names = "--vit", required = true, description = "CLIP vision tower: HF folder or OpenAI-format state dict")
    Path vit;

    @Option(names = "--adapter", description = "LaVIN adapter folder (or LaVIN .pth): serve a LaVIN model")
    Path adapter;

    @Option(names = "--vpg", description = "VPG folder: serve a VPGTrans model (with --projector)")
    Path vpg;

    @Option(names = "--projector", description = "projector folder of the VPGTrans model")
    Path projector;

    @Option(names = "--id", description = "model name in /v1/models (default: the adapter's or VPG's folder name)")
    String id;

    @picocli.CommandLine.Mixin
    ComputeOptions compute = new ComputeOptions();

    @Option(names = "--merged", description = "LaVIN: fold the LLM adapters into q/k/v per modality")
    boolean merged;

    @Option(names = "--preprocess", description = "lavin or clip (default: lavin for LaVIN, clip for VPGTrans)")
    String preprocess;

    @Option(names = "--template", description = "prompt template with {prompt} (default: the method's)")
    String template;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "(default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--api-key", description = "require 'Authorization: Bearer KEY' on /v1 (default: $VLADAPT_API_KEY, or none)")
    String apiKey;

    @Option(names = "--max-batch", defaultValue = "16", description = "sequences decoded together (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--queue", defaultValue = "64", description = "requests waiting beyond the batch; more get 429 (default: ${DEFAULT-VALUE})")
    int queue;

    @Option(names = "--max-tokens", defaultValue = "256", description = "max_tokens when a request gives none (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--max-body-mb", defaultValue = "32", description = "request body limit, 413 above (default: ${DEFAULT-VALUE})")
    long maxBodyMb;

    @Option(names = "--max-image-mb", defaultValue = "20", description = "decoded image limit, 413 above (default: ${DEFAULT-VALUE})")
    long maxImageMb;

    @Option(names = "--max-image-pixels", defaultValue = "40000000", description = "image pixel limit, 413 above (default: ${DEFAULT-VALUE})")
    long maxPixels;

    @Option(names = "--allow-local-images", description = "let image_url name files under this folder (file:// URLs or paths)")
    Path localImages;

    @Option(names = "--grace", defaultValue = "30", description = "seconds running requests get to finish on shutdown (default: ${DEFAULT-VALUE})")
    int grace;

    @Override
    public Integer call() throws Exception {
        compute.apply();
        if ((adapter == null) == (vpg == null)) throw new IllegalArgumentException("give --adapter (LaVIN) or --vpg with --projector (VPGTrans)");
        if (vpg != null && projector == null) throw new IllegalArgumentException("--vpg needs --projector");
        ModelLoader loader = adapter != null ? VisionLanguageModel.lavin(lm, vit, adapter).merged(merged)
                : VisionLanguageModel.vpgTrans(lm, vit, vpg, projector);
        loader.dtype(compute.dtype).device(compute.device()).quantize(compute.quantize.llm).quantizeVit(compute.quantize.vit).maxBatch(maxBatch).queueCapacity(queue).maxImagePixels(maxPixels);
        if (preprocess != null) loader.preprocess(Preprocess.parse(preprocess));
        if (template != null) loader.template(template);
        if (id != null) loader.id(id);
        String key = apiKey != null ? apiKey : System.getenv("VLADAPT_API_KEY");
        ServerOptions o = new ServerOptions(host, port, key == null || key.isBlank() ? null : key, maxBodyMb << 20, maxImageMb << 20, maxPixels,
                localImages, maxTokens, grace);
        VisionLanguageModel model = loader.load();
        OpenAiServer server = OpenAiServer.start(model, o);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("vladapt serve: shutting down (running requests get " + grace + " s)");
            try {
                server.close();
            } catch (Exception e) {
                System.err.println("vladapt serve: " + e);
            }
            model.shutdown(Duration.ofSeconds(grace));
        }, "vladapt-shutdown"));
        System.err.printf("vladapt serve: %s (%s) on http://%s:%d/v1 (%s)%s%n", model.info().id(), model.info().method(), host, server.port(),
                io.vladapt.ext.Threads.describe(), key != null ? ", API key required" : "");
        server.join();
        return 0;
    }
}
