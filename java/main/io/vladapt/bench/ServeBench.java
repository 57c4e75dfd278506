package io.vladapt.bench;

import static org.bytedeco.opencv.global.opencv_imgcodecs.imencode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vladapt.api.AdapterShape;
import io.vladapt.api.Backbones;
import io.vladapt.api.VisionLanguageModel;
import io.vladapt.data.SyntheticScienceQa;
import io.vladapt.ext.Threads;
import io.vladapt.io.AtomicFiles;
import io.vladapt.io.ModelConfigs;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.io.TextTokenizer;
import io.vladapt.io.WordTokenizerBuilder;
import io.vladapt.mma.MmaAdapters;
import io.vladapt.mma.MmaCheckpoint;
import io.vladapt.nn.ClipVisionConfig;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.RandomInit;
import io.vladapt.serve.OpenAiServer;
import io.vladapt.serve.ServerOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * {@code vladapt bench serve}: requests/s, tokens/s and latency percentiles of the OpenAI-compatible
 * server at 1, 4 and 16 concurrent clients, with dynamic batching (up to 16 sequences share each
 * decoding step) against one-at-a-time serving (batch 1: requests wait their turn), on the same
 * requests over HTTP (non-streaming, greedy, an image each). Models: the demo's when its cache
 * exists, else a random model of the demo's shapes; and a LLaMA-7B-shaped stack (a few 7B-shaped
 * layers over a few ViT-L/14-shaped blocks, random weights: a real 7B has 32 layers, so its
 * per-token cost is about 32 / layers times this stack's, with the same batching behaviour).
 */
public final class ServeBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int[] CONCURRENCY = {1, 4, 16};

    /** One model to serve and how hard to push it. */
    record Setup(String name, Path llm, Path vit, Path adapter, String template, String question, int maxTokens, int requestsPerClient) {}

    private final PrintStream out;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    public ServeBench(PrintStream out) {
        this.out = out;
    }

    /** Runs the setups and prints one table. */
    public void run(Path work, int llm7bLayers, boolean skip7b, String dtype) throws Exception {
        out.printf("vladapt bench serve: %s; %s; %s%n", cpu(), Threads.describe(), load());
        out.println("non-streaming POST /v1/chat/completions over loopback HTTP, greedy, one image per request; each client sends its "
                + "requests back to back");
        List<Setup> setups = new ArrayList<>();
        setups.add(demo(work));
        if (!skip7b) setups.add(llama7b(work, llm7bLayers));
        out.printf("%n%-34s %4s %-15s %5s %8s %9s %9s %9s %11s%n", "model", "conc", "serving", "reqs", "req/s", "tokens/s", "p50 ms",
                "p95 ms", "req/s ratio");
        for (Setup s : setups) {
            for (int c : CONCURRENCY) {
                double[] batched = measure(s, c, 16, dtype), single = measure(s, c, 1, dtype);
                print(s, c, "batched (16)", batched, batched[0] / single[0]);
                print(s, c, "one at a time", single, 1.0);
            }
        }
        out.printf("%nreq/s ratio: batched / one-at-a-time at the same concurrency. %s%n", load());
    }

    private void print(Setup s, int c, String mode, double[] r, double ratio) {
        out.printf("%-34s %4d %-15s %5d %8.2f %9.1f %9.0f %9.0f %10.2fx%n", s.name(), c, mode, (int) r[4], r[0], r[1], r[2], r[3], ratio);
    }

    /** {req/s, tokens/s, p50 ms, p95 ms, requests} for c clients against a model batching up to maxBatch sequences. */
    private double[] measure(Setup s, int c, int maxBatch, String dtype) throws Exception {
        try (VisionLanguageModel m = VisionLanguageModel.lavin(s.llm(), s.vit(), s.adapter()).dtype(dtype).maxBatch(maxBatch)
                .queueCapacity(256).template(s.template()).id("bench").load();
             OpenAiServer server = OpenAiServer.start(m, ServerOptions.defaults().withPort(0))) {
            int n = c * s.requestsPerClient();
            List<String> bodies = new ArrayList<>();
            List<byte[]> images = images(Math.min(n, 8));
            for (int i = 0; i < n; i++) bodies.add(body(s, images.get(i % images.size())));
            post(server.port(), bodies.get(0));                                                  // warm-up
            double[] latency = new double[n];
            long[] tokens = new long[1];
            AtomicInteger next = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(c);
            long t0 = System.nanoTime();
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int k = 0; k < c; k++) {
                    fs.add(pool.submit(() -> {
                        for (int i; (i = next.getAndIncrement()) < n; ) {
                            long r0 = System.nanoTime();
                            JsonNode j = post(server.port(), bodies.get(i));
                            latency[i] = (System.nanoTime() - r0) / 1e6;
                            synchronized (tokens) {
                                tokens[0] += j.at("/usage/completion_tokens").asLong();
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) f.get();
            } finally {
                pool.shutdownNow();
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            Arrays.sort(latency);
            return new double[] {n / secs, tokens[0] / secs, percentile(latency, 0.5), percentile(latency, 0.95), n};
        }
    }

    static double percentile(double[] sorted, double q) {
        return sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
    }

    private JsonNode post(int port, String body) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IllegalStateException("server answered " + r.statusCode() + ": " + r.body());
        return JSON.readTree(r.body());
    }

    private static String body(Setup s, byte[] png) {
        String url = "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
        return "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":" + JSON.valueToTree(s.question())
                + "},{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + url + "\"}}]}],\"max_tokens\":" + s.maxTokens()
                + ",\"temperature\":0}";
    }

    /** Synthetic scenes (the demo's renderer), PNG-encoded at the ViT's input size. */
    private static List<byte[]> images(int count) {
        List<byte[]> out = new ArrayList<>();
        for (Map.Entry<Mat, int[][]> e : SyntheticScienceQa.randomScenes(count, 224, 5)) {
            BytePointer buf = new BytePointer();
            imencode(".png", e.getKey(), buf);
            byte[] b = new byte[(int) buf.limit()];
            buf.get(b);
            out.add(b);
        }
        return out;
    }

    // ------------------------------------------------------------------ models
    private Setup demo(Path work) throws IOException {
        Path cache = Path.of(System.getProperty("user.home"), ".cache", "vladapt", "demo");
        String q = "Question: Which colour is the square?\nContext: N/A\nOptions: (A) red (B) blue (C) green\nResponse:";
        if (Files.isDirectory(cache.resolve("run/mma/adapter"))) {
            out.println("demo model: the trained demo in " + cache);
            return new Setup("demo (trained, LLM 4x128)", cache.resolve("lm"), cache.resolve("vit"), cache.resolve("run/mma/adapter"), "{prompt}",
                    q, 16, 6);
        }
        Path dir = work.resolve("demo-shaped");
        ClipVisionConfig v = new ClipVisionConfig(64, 128, 6, 4, 32, 8, 3, "quick_gelu", 1e-5);
        ensure(dir, new int[] {128, 352, 4, 4, 32, 256}, v, new AdapterShape(8, 2, 10, 0.1, 128, 6, false), 2000);
        out.println("demo model: no demo cache in " + cache + ", so a random model of the demo's shapes (" + dir + ")");
        return new Setup("demo-shaped (random, LLM 4x128)", dir.resolve("llm"), dir.resolve("vit"), dir.resolve("adapter"), "{prompt}", q, 16, 6);
    }

    private Setup llama7b(Path work, int layers) throws IOException {
        Path dir = work.resolve("llama7b-" + layers + "layers");
        ClipVisionConfig v = new ClipVisionConfig(1024, 4096, 2, 16, 224, 14, 3, "quick_gelu", 1e-5);
        ensure(dir, new int[] {4096, 11008, layers, 32, 128, 4096}, v, new AdapterShape(8, 2, 10, 0.1, 128, 2, false), 32000);
        out.printf("7B-shaped stack: %d LLaMA-7B-shaped layers (d 4096, 32 heads, FFN 11008, vocab 32000) over 2 ViT-L/14-shaped blocks "
                + "(d 1024, 224 px), random weights (%s)%n", layers, dir);
        return new Setup("7B-shaped (" + layers + " layers)", dir.resolve("llm"), dir.resolve("vit"), dir.resolve("adapter"),
                "Instruction: {prompt}\nResponse:", "What is in the picture? Describe the shapes, their colours and where they are.", 8, 1);
    }

    /**
     * Writes (once; a .spec marker says what is there) a word tokenizer of about {@code vocab} words,
     * a random LLM of {d, ffn, layers, heads, head dim, positions} and a ViT of these shapes, and
     * random adapters.
     */
    private void ensure(Path dir, int[] llmShape, ClipVisionConfig vc, AdapterShape as, int vocab) throws IOException {
        String spec = Arrays.toString(llmShape) + " " + vc + " " + as + " " + vocab;
        Path marker = dir.resolve(".spec");
        if (Files.isRegularFile(marker) && Files.readString(marker).equals(spec)) return;
        out.println("  writing random weights to " + dir + " (once)");
        Path llm = dir.resolve("llm"), vit = dir.resolve("vit");
        Files.createDirectories(llm);
        Files.createDirectories(vit);
        List<String> words = new ArrayList<>(List.of("Image: N/A Question Context Options Response Instruction The answer is"));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < vocab; i++) sb.append('w').append(i).append(' ');
        words.add(sb.toString());
        int size = WordTokenizerBuilder.write(llm, words, 1);
        try (TextTokenizer tok = TextTokenizer.load(llm)) {
            int[] d = llmShape;
            LlamaConfig c = new LlamaConfig(size, d[0], d[1], d[2], d[3], d[3], d[4], 1e-6, 10000.0, null, d[5], false, false, tok.bosId(),
                    List.of(tok.eosId()), tok.padId(), "float32");
            try (LlamaModel m = RandomInit.llama(c, 1, ScalarType.Float)) {
                ModelConfigs.writeLlamaHf(c, llm.resolve("config.json"));
                SafetensorsWriter.write(llm.resolve("model.safetensors"), new LinkedHashMap<>(m.params().asMap()), Map.of("format", "pt"));
            }
        }
        try (ClipVisionModel m = RandomInit.clip(vc, 2, ScalarType.Float)) {
            ModelConfigs.writeClipVisionHf(vc, vit.resolve("config.json"));
            SafetensorsWriter.write(vit.resolve("model.safetensors"), new LinkedHashMap<>(m.params().asMap()), Map.of("format", "pt"));
        }
        try (Backbones b = Backbones.load(llm, vit, "float32", 0);
             MmaAdapters a = MmaAdapters.init(as.config(b.llm().config(), b.vit().config()), 3)) {
            MmaCheckpoint.save(dir.resolve("adapter"), a, b.base());
        }
        AtomicFiles.writeString(marker, spec);
    }

    // ------------------------------------------------------------------ machine
    static String cpu() {
        try {
            String model = "?", flags = "";
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name") && model.equals("?")) model = l.substring(l.indexOf(':') + 1).strip();
                if (l.startsWith("flags") && flags.isEmpty()) flags = l;
            }
            List<String> has = new ArrayList<>();
            for (String f : new String[] {"avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_int8"}) {
                if ((" " + flags + " ").contains(" " + f + " ")) has.add(f);
            }
            return model + ", " + Runtime.getRuntime().availableProcessors() + " cores, " + String.join(" ", has);
        } catch (IOException e) {
            return "cpu unknown";
        }
    }

    static String load() {
        try {
            return "load average " + Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "";
        }
    }
}
