package io.vladapt.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vladapt.api.ChatRequest;
import io.vladapt.api.ImageInput;
import io.vladapt.api.Sampling;
import io.vladapt.api.TinyModels;
import io.vladapt.api.VisionLanguageModel;
import io.vladapt.testutil.T;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The OpenAI-compatible server driven by a real HTTP client (java.net.http) and, for disconnects, raw sockets. */
class ServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final boolean DEBUG = System.getenv("SERVER_TEST_DEBUG") != null;
    static TinyModels t;
    static VisionLanguageModel model;
    static OpenAiServer server;
    static HttpClient http;

    @BeforeAll
    static void start() throws Exception {
        T.opts(org.bytedeco.pytorch.global.torch.ScalarType.Float);
        t = TinyModels.get();
        model = VisionLanguageModel.lavin(t.llm, t.vit, t.adapter).dtype("float32").id("tiny").maxBatch(32).queueCapacity(64).load();
        server = OpenAiServer.start(model, ServerOptions.defaults().withPort(0).withLimits(1 << 20, 200_000, 250_000));
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        model.close();
    }

    static String dataUrl(byte[] png) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
    }

    static String body(String text, byte[] png, int maxTokens, boolean stream, String extra) {
        String content = png == null ? JSON.valueToTree(text).toString()
                : "[{\"type\":\"text\",\"text\":" + JSON.valueToTree(text) + "},{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + dataUrl(png)
                + "\"}}]";
        return "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":" + content + "}],\"max_tokens\":" + maxTokens
                + ",\"stream\":" + stream + (extra == null ? ",\"temperature\":0" : "," + extra) + "}";
    }

    static HttpResponse<String> post(OpenAiServer s, String json, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        if (key != null) b.header("Authorization", "Bearer " + key);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The streamed text of an SSE answer (checked to end with a finish reason and [DONE]). */
    static String streamed(String sse) throws IOException {
        StringBuilder text = new StringBuilder();
        String finish = null;
        List<String> lines = sse.lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", lines.get(lines.size() - 1), sse);
        for (String l : lines.subList(0, lines.size() - 1)) {
            JsonNode c = JSON.readTree(l);
            assertEquals("chat.completion.chunk", c.path("object").asText());
            JsonNode ch = c.path("choices").path(0);
            text.append(ch.path("delta").path("content").asText(""));
            if (!ch.path("finish_reason").isNull() && !ch.path("finish_reason").isMissingNode()) finish = ch.path("finish_reason").asText();
        }
        assertTrue(finish != null, "no finish_reason in " + sse);
        return text.toString();
    }

    @Test
    void nonStreamingAndStreamingWithAnImageAnswerLikeTheApi() throws Exception {
        byte[] png = TinyModels.png(3, 40, 30);
        String api = model.generate(new ChatRequest("what is shown", ImageInput.of(png), Sampling.greedy(12), null)).text();
        HttpResponse<String> r = post(server, body("what is shown", png, 12, false, null), null);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode j = JSON.readTree(r.body());
        assertEquals(api, j.at("/choices/0/message/content").asText());
        assertEquals("chat.completion", j.path("object").asText());
        assertTrue(j.at("/usage/prompt_tokens").asInt() > 3, r.body());
        HttpResponse<String> s = post(server, body("what is shown", png, 12, true, null), null);
        assertEquals(200, s.statusCode(), s.body());
        assertTrue(s.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        assertEquals(api, streamed(s.body()));
    }

    @Test
    void thirtyTwoConcurrentStreamsEachGetALoneRequestsAnswer() throws Exception {
        List<String> bodies = new ArrayList<>(), alone = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            byte[] png = i % 4 == 3 ? null : TinyModels.png(i % 5, 24 + i, 32);
            String sampling = i % 3 == 2 ? "\"temperature\":0.8,\"top_p\":0.9,\"seed\":" + i : null;
            bodies.add(body(i % 2 == 0 ? "describe the picture" : "what colour is the square", png, 8 + i % 9, true, sampling));
        }
        for (String b : bodies) alone.add(streamed(post(server, b, null).body()));
        ExecutorService pool = Executors.newFixedThreadPool(32);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<HttpResponse<String>>> fs = new ArrayList<>();
            for (String b : bodies) fs.add(pool.submit(() -> {
                go.await();
                return post(server, b, null);
            }));
            go.countDown();
            for (int i = 0; i < bodies.size(); i++) {
                HttpResponse<String> r = fs.get(i).get();
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(alone.get(i), streamed(r.body()), "request " + i);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    static JsonNode error(HttpResponse<String> r, int status) throws IOException {
        assertEquals(status, r.statusCode(), r.body());
        return JSON.readTree(r.body()).path("error");
    }

    @Test
    void badRequestsGetTheirStatusAndNameTheField() throws Exception {
        JsonNode e = error(post(server, "{\"messages\": [", null), 400);
        assertTrue(e.path("message").asText().contains("malformed JSON"), e.toString());
        assertEquals("body", e.path("param").asText());
        assertEquals("messages", error(post(server, "{\"messages\": \"hi\"}", null), 400).path("param").asText());
        assertEquals("max_tokens", error(post(server, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":\"ten\"}", null), 400)
                .path("param").asText());
        assertEquals("messages[0].content[1].image_url.url", error(post(server, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
                + "\"text\":\"x\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,@@@\"}}]}]}", null), 400).path("param").asText());
        // bytes that are not an image
        JsonNode notImage = error(post(server, body("x", "this is not an image".getBytes(StandardCharsets.UTF_8), 4, false, null), null), 400);
        assertTrue(notImage.path("message").asText().contains("not a decodable image"), notImage.toString());
        // over the image byte limit (200,000) and the pixel limit (250,000)
        assertEquals(413, post(server, body("x", new byte[300_000], 4, false, null), null).statusCode());
        JsonNode pixels = error(post(server, body("x", TinyModels.png(4, 600, 500), 4, false, null), null), 413);
        assertTrue(pixels.path("message").asText().contains("600 x 500"), pixels.toString());
        // over the body limit (1 MiB)
        assertEquals(413, post(server, body("x".repeat(2 << 20), null, 4, false, null), null).statusCode());
        // local files are off unless a folder is allowed
        assertEquals(400, post(server, body("x", null, 4, false, null).replace("\"content\":\"x\"",
                "\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"file:///etc/hostname\"}}]"), null).statusCode());
        assertEquals("model", error(post(server, body("x", null, 4, false, null).replace("\"tiny\"", "\"gpt-9\""), null), 404)
                .path("param").asText());
    }

    @Test
    void modelsHealthAndApiKey() throws Exception {
        HttpResponse<String> models = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/models")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("tiny", JSON.readTree(models.body()).at("/data/0/id").asText());
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("ok", JSON.readTree(health.body()).path("status").asText());
        try (OpenAiServer keyed = OpenAiServer.start(model, ServerOptions.defaults().withPort(0).withApiKey("sesame"))) {
            assertEquals(401, post(keyed, body("x", null, 2, false, null), "wrong").statusCode());
            assertEquals(401, post(keyed, body("x", null, 2, false, null), null).statusCode());
            assertEquals(200, post(keyed, body("x", null, 2, false, null), "sesame").statusCode());
        }
    }

    @Test
    void aFullQueueAnswers429AndLocalFilesWorkWhenAllowed(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Files.write(dir.resolve("a.png"), TinyModels.png(5, 32, 32));
        try (VisionLanguageModel small = VisionLanguageModel.lavin(t.llm, t.vit, t.adapter).dtype("float32").id("tiny").maxBatch(1).queueCapacity(1).load();
             OpenAiServer s = OpenAiServer.start(small, ServerOptions.defaults().withPort(0).withLocalImages(dir))) {
            String local = body("x", null, 4, false, null).replace("\"content\":\"x\"",
                    "\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"a.png\"}}]");
            assertEquals(200, post(s, local, null).statusCode());
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<HttpResponse<String>>> fs = new ArrayList<>();
                for (int i = 0; i < 8; i++) fs.add(pool.submit(() -> post(s, body("describe", null, 200, false, "\"temperature\":0"), null)));
                int tooMany = 0;
                for (Future<HttpResponse<String>> f : fs) {
                    HttpResponse<String> r = f.get();
                    if (r.statusCode() == 429) {
                        tooMany++;
                        assertEquals("1", r.headers().firstValue("retry-after").orElse(""));
                    } else assertEquals(200, r.statusCode(), r.body());
                }
                assertTrue(tooMany > 0, "8 requests at once, batch 1 + queue 1: some must be refused");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    static long rss() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("\\D", "")) * 1024;
        throw new IllegalStateException("no VmRSS");
    }

    static long javaCommitted() {
        MemoryMXBean m = ManagementFactory.getMemoryMXBean();
        return m.getHeapMemoryUsage().getCommitted() + m.getNonHeapMemoryUsage().getCommitted();
    }

    /** Sends a streaming request over a raw socket, reads the role chunk and the first token's event, and hangs up. */
    static void hangUpMidStream(int port, String json) throws IOException {
        try (Socket sock = new Socket("127.0.0.1", port)) {
            byte[] b = json.getBytes(StandardCharsets.UTF_8);
            OutputStream out = sock.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + b.length
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(b);
            out.flush();
            InputStream in = sock.getInputStream();
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            int chunks = 0;
            long t0 = System.nanoTime();
            for (String l; (l = r.readLine()) != null; ) if ((l.startsWith("data: ") || l.startsWith(":")) && ++chunks == 2) break;
            assertEquals(2, chunks, "the stream should have started");
            if (DEBUG) System.out.printf("hang-up after %.1f ms%n", (System.nanoTime() - t0) / 1e6);
        }
    }

    @Test
    void fiveHundredClientsThatHangUpMidStreamLeaveNoNativeMemoryBehind() throws Exception {
        try (VisionLanguageModel wide = VisionLanguageModel.lavin(t.wideLlm, t.vit, t.wideAdapter).dtype("float32").id("wide").maxBatch(16).load();
             OpenAiServer s = OpenAiServer.start(wide, ServerOptions.defaults().withPort(0))) {
            String json = body("describe the picture in many words", TinyModels.png(6, 32, 32), 400, true, "\"temperature\":1.0,\"seed\":3")
                    .replace("\"tiny\"", "\"wide\"");
            ExecutorService pool = Executors.newFixedThreadPool(10);
            try {
                Runnable batch = () -> {
                    for (int i = 0; i < 10; i++) {
                        try {
                            hangUpMidStream(s.port(), json);
                        } catch (IOException e) {
                            throw new RuntimeException(e);
                        }
                    }
                };
                runAll(pool, batch, 5);                                   // warm-up: 50 requests
                settle(wide);
                System.gc();
                long rss0 = rss(), java0 = javaCommitted();
                long[] before = s.counters();
                for (int round = 0; round < 5; round++) runAll(pool, batch, 10);   // 500 requests
                settle(wide);
                System.gc();
                long growth = rss() - rss0 - Math.max(0, javaCommitted() - java0);
                long[] after = s.counters();
                System.out.printf("ServerTest: 500 streams hung up mid-way; %d cancelled at a failed write, %d ran to the end; native growth %.1f MB%n",
                        after[1] - before[1], after[0] - before[0], growth / 1e6);
                assertTrue(after[1] - before[1] >= 450, "most hung-up streams must be cancelled at the next write: " + (after[1] - before[1]));
                assertEquals(0, wide.running(), "no sequence may keep running");
                // one leaked KV cache per request would be 500 x 2 layers x K,V x (~440 positions x 256 x 4 B) = 900 MB
                assertTrue(growth < 60L << 20, "native memory grew by " + (growth >> 20) + " MB over 500 hung-up streams");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    static void runAll(ExecutorService pool, Runnable r, int n) throws Exception {
        List<Future<?>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) fs.add(pool.submit(r));
        for (Future<?> f : fs) f.get();
    }

    /** Waits until cancelled sequences have left the batch. */
    static void settle(VisionLanguageModel m) throws InterruptedException {
        for (int i = 0; i < 200 && (m.running() > 0 || m.waiting() > 0); i++) Thread.sleep(25);
    }

    @Test
    void shutdownLetsARunningStreamFinish() throws Exception {
        try (VisionLanguageModel m = VisionLanguageModel.lavin(t.llm, t.vit, t.adapter).dtype("float32").id("tiny").load()) {
            OpenAiServer s = OpenAiServer.start(m, ServerOptions.defaults().withPort(0));
            String json = body("describe", null, 60, true, "\"temperature\":1.0,\"seed\":1,\"stop\":[\"@@@@\"]");
            String whole = streamed(post(s, json, null).body());
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<HttpResponse<String>> f = pool.submit(() -> post(s, json, null));
                for (int i = 0; i < 200 && m.running() == 0; i++) Thread.sleep(5);
                s.close();
                HttpResponse<String> r = f.get();
                assertEquals(200, r.statusCode());
                assertEquals(whole, streamed(r.body()), "the request running at shutdown must finish");
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
