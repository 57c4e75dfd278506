package io.vladapt.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.api.Completion;
import io.vladapt.api.ImageInput;
import io.vladapt.api.QueueFullException;
import io.vladapt.api.TokenStream;
import io.vladapt.api.VisionLanguageModel;
import io.vladapt.io.FormatException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.NoSuchElementException;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * An OpenAI-compatible HTTP server for one {@link VisionLanguageModel}, on Jetty 12's core server:
 * {@code POST /v1/chat/completions} (text and {@code image_url} parts, SSE streaming),
 * {@code GET /v1/models}, {@code GET /health}. Requests are handed to the model, whose generation
 * thread batches them; a full queue answers 429, oversize bodies and images 413, a wrong key 401,
 * malformed fields 400 naming the field. A streaming client that goes away is noticed at the next
 * token it is sent: its sequence is cancelled and leaves the batch. {@link #close} stops taking
 * connections and lets running requests finish within the grace period.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final VisionLanguageModel model;
    private final ServerOptions options;
    private final Server server;
    private final ServerConnector connector;
    private final long created = System.currentTimeMillis() / 1000;
    private final AtomicLong served = new AtomicLong(), cancelled = new AtomicLong(), refused = new AtomicLong();

    private OpenAiServer(VisionLanguageModel model, ServerOptions o) {
        this.model = model;
        this.options = o;
        QueuedThreadPool pool = new QueuedThreadPool(256, 8);
        pool.setName("vladapt-http");
        server = new Server(pool);
        connector = new ServerConnector(server);
        connector.setHost(o.host());
        connector.setPort(o.port());
        connector.setIdleTimeout(600_000);                      // a long non-streamed answer writes nothing for minutes
        server.addConnector(connector);
        server.setHandler(new GracefulHandler(new Routes()));
        server.setStopTimeout(o.graceSeconds() * 1000L);
        server.setStopAtShutdown(false);
    }

    /** Starts serving the model (the model stays the caller's: closing the server does not close it). */
    public static OpenAiServer start(VisionLanguageModel model, ServerOptions o) throws Exception {
        OpenAiServer s = new OpenAiServer(model, o);
        s.server.start();
        return s;
    }

    /** The port bound (useful with port 0). */
    public int port() {
        return connector.getLocalPort();
    }

    /** Requests answered, streams cancelled by their clients, requests refused with 429. */
    public long[] counters() {
        return new long[] {served.get(), cancelled.get(), refused.get()};
    }

    /** Graceful: no new connections, running requests finish within the grace period. */
    @Override
    public void close() throws Exception {
        server.stop();
    }

    public void join() throws InterruptedException {
        server.join();
    }

    private final class Routes extends Handler.Abstract {
        @Override
        public boolean handle(Request req, Response res, Callback cb) {
            String path = req.getHttpURI().getPath(), method = req.getMethod();
            try {
                if (path.equals("/health")) {
                    ObjectNode o = JSON.createObjectNode().put("status", "ok").put("model", model.info().id())
                            .put("running", model.running()).put("waiting", model.waiting()).put("served", served.get())
                            .put("cancelled", cancelled.get()).put("refused", refused.get());
                    send(res, cb, 200, o);
                    return true;
                }
                if (!path.startsWith("/v1/")) throw new HttpError(404, null, "no route " + method + " " + path);
                authorize(req);
                if (path.equals("/v1/models") && method.equals("GET")) {
                    ObjectNode o = JSON.createObjectNode().put("object", "list");
                    o.putArray("data").addObject().put("id", model.info().id()).put("object", "model").put("created", created)
                            .put("owned_by", "vladapt");
                    send(res, cb, 200, o);
                } else if (path.equals("/v1/chat/completions") && method.equals("POST")) {
                    chat(req, res, cb);
                } else {
                    throw new HttpError(404, null, "no route " + method + " " + path);
                }
            } catch (HttpError e) {
                if (e.status == 429) refused.incrementAndGet();
                // an error found before the body was read (401, 404, 429) leaves it unread; Jetty may then close the
                // connection under a keep-alive client, whose next request fails with no response: read it first
                try (InputStream in = Content.Source.asInputStream(req)) {
                    drain(in, new byte[65536], SWALLOW);
                } catch (IOException ignored) {
                    // the client is gone: nothing to keep alive
                }
                sendError(res, cb, e);
            } catch (RuntimeException e) {
                sendError(res, cb, new HttpError(500, null, "internal error: " + e));
            }
            return true;
        }
    }

    private void authorize(Request req) {
        if (options.apiKey() == null) return;
        String h = req.getHeaders().get(HttpHeader.AUTHORIZATION);
        String given = h != null && h.startsWith("Bearer ") ? h.substring(7).strip() : "";
        boolean ok = MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), options.apiKey().getBytes(StandardCharsets.UTF_8));
        if (!ok) throw new HttpError(401, null, h == null ? "missing API key (Authorization: Bearer ...)" : "incorrect API key");
    }

    /** A client may finish sending this much more than the limit, so that it reads the 413 instead of a reset connection. */
    private static final long SWALLOW = 16L << 20;

    private byte[] body(Request req) {
        long max = options.maxBodyBytes(), declared = req.getLength();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        try (InputStream in = Content.Source.asInputStream(req)) {
            if (max > 0 && declared > max) {
                drain(in, buf, max + SWALLOW);
                throw new HttpError(413, "body", "body of " + declared + " bytes, over the limit of " + max);
            }
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
                if (max > 0 && out.size() > max) {
                    drain(in, buf, SWALLOW);
                    throw new HttpError(413, "body", "body over the limit of " + max + " bytes");
                }
            }
        } catch (IOException e) {
            throw new HttpError(400, "body", "body: could not be read (" + e.getMessage() + ")");
        }
        return out.toByteArray();
    }

    /** Reads and drops at most {@code cap} bytes of what the client is still sending. */
    private static void drain(InputStream in, byte[] buf, long cap) throws IOException {
        long seen = 0;
        for (int n; seen < cap && (n = in.read(buf)) > 0; ) seen += n;
    }

    private void chat(Request req, Response res, Callback cb) {
        CompletionRequest r = CompletionRequest.parse(body(req), options);
        if (r.model() != null && !r.model().equals(model.info().id())) {
            throw new HttpError(404, "model", "model: '" + r.model() + "' is not served here (this server serves '" + model.info().id() + "')");
        }
        TokenStream s;
        try {
            s = model.start(r.chat(), options.maxImagePixels(), r.stream());
        } catch (QueueFullException e) {
            res.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
            throw new HttpError(429, null, e.getMessage());
        } catch (ImageInput.TooLargeException e) {
            throw new HttpError(413, r.imageParam(), e.getMessage());
        } catch (FormatException e) {
            throw new HttpError(400, r.imageParam(), e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new HttpError(400, null, e.getMessage());
        } catch (IllegalStateException e) {
            throw new HttpError(503, null, e.getMessage());                          // the model is shutting down
        }
        req.addFailureListener(x -> s.cancel());                // the connection failed while we worked
        try {
            if (r.stream()) streamAnswer(r, s, res, cb);
            else {
                Completion c;
                try {
                    c = s.completion();
                } catch (IllegalArgumentException e) {
                    throw new HttpError(400, null, e.getMessage());
                }
                send(res, cb, 200, completionJson(c));
                served.incrementAndGet();
            }
        } finally {
            s.close();
        }
    }

    private String id() {
        return "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
    }

    private ObjectNode completionJson(Completion c) {
        ObjectNode o = JSON.createObjectNode().put("id", id()).put("object", "chat.completion").put("created", System.currentTimeMillis() / 1000)
                .put("model", model.info().id());
        ObjectNode choice = o.putArray("choices").addObject().put("index", 0);
        choice.putObject("message").put("role", "assistant").put("content", c.text());
        choice.put("finish_reason", c.finishReason().openAiName());
        usage(o, c);
        return o;
    }

    private static void usage(ObjectNode o, Completion c) {
        o.putObject("usage").put("prompt_tokens", c.promptTokens()).put("completion_tokens", c.completionTokens())
                .put("total_tokens", c.promptTokens() + c.completionTokens());
    }

    /**
     * SSE: the status is sent once the first piece (or the end) is known, so that a request the model
     * refuses while preparing it still gets a plain error status. A failed write means the client left.
     */
    private void streamAnswer(CompletionRequest r, TokenStream s, Response res, Callback cb) {
        String first;
        try {
            first = s.nextOrEmpty();
        } catch (IllegalArgumentException e) {
            throw new HttpError(400, null, e.getMessage());
        }
        String id = id();
        long now = System.currentTimeMillis() / 1000;
        res.setStatus(200);
        res.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        res.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        try (OutputStream out = Content.Sink.asOutputStream(res)) {
            event(out, chunk(id, now, JSON.createObjectNode().put("role", "assistant").put("content", ""), null));
            if (first != null && !first.isEmpty()) event(out, chunk(id, now, JSON.createObjectNode().put("content", first), null));
            for (String p; (p = s.nextOrEmpty()) != null; ) {
                if (p.isEmpty()) comment(out);                   // no text yet: still write, to notice a client that left
                else event(out, chunk(id, now, JSON.createObjectNode().put("content", p), null));
            }
            Completion c = s.completion();
            event(out, chunk(id, now, JSON.createObjectNode(), c.finishReason().openAiName()));
            if (r.includeUsage()) {
                ObjectNode u = chunk(id, now, null, null);
                usage(u, c);
                event(out, u);
            }
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            served.incrementAndGet();
        } catch (IOException | NoSuchElementException e) {
            s.cancel();                                          // the client went away: free its sequence now
            cancelled.incrementAndGet();
            cb.failed(e);
            return;
        } catch (RuntimeException e) {
            s.cancel();
            cb.failed(e);
            return;
        }
        cb.succeeded();
    }

    private ObjectNode chunk(String id, long created, ObjectNode delta, String finish) {
        ObjectNode o = JSON.createObjectNode().put("id", id).put("object", "chat.completion.chunk").put("created", created)
                .put("model", model.info().id());
        ArrayNode choices = o.putArray("choices");
        if (delta != null) {
            ObjectNode c = choices.addObject().put("index", 0);
            c.set("delta", delta);
            if (finish != null) c.put("finish_reason", finish);
            else c.putNull("finish_reason");
        }
        return o;
    }

    private static void event(OutputStream out, ObjectNode o) throws IOException {
        out.write(("data: " + JSON.writeValueAsString(o) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void comment(OutputStream out) throws IOException {
        out.write(":\n\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static void send(Response res, Callback cb, int status, ObjectNode body) {
        res.setStatus(status);
        res.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        try {
            Content.Sink.write(res, true, JSON.writeValueAsString(body), cb);
        } catch (IOException e) {
            cb.failed(e);
        }
    }

    private static void sendError(Response res, Callback cb, HttpError e) {
        ObjectNode o = JSON.createObjectNode();
        ObjectNode err = o.putObject("error").put("message", e.getMessage()).put("type", e.type);
        if (e.param != null) err.put("param", e.param);
        else err.putNull("param");
        err.putNull("code");
        send(res, cb, e.status, o);
    }
}
