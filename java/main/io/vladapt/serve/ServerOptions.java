package io.vladapt.serve;

import java.nio.file.Path;

/**
 * How the OpenAI-compatible server listens and what it accepts.
 *
 * @param host            address to bind ("127.0.0.1" keeps it local)
 * @param port            0 picks a free port
 * @param apiKey          the Bearer key every /v1 request must carry, or null for none
 * @param maxBodyBytes    larger request bodies get 413
 * @param maxImageBytes   larger (decoded) images get 413
 * @param maxImagePixels  images with more pixels get 413 (read from the header, before decoding)
 * @param localImages     folder whose files may be named as image URLs (file:// or a path), or null: none
 * @param maxTokens       max_tokens when a request gives none
 * @param graceSeconds    on shutdown, how long running requests may finish
 */
public record ServerOptions(String host, int port, String apiKey, long maxBodyBytes, long maxImageBytes, long maxImagePixels,
                            Path localImages, int maxTokens, int graceSeconds) {
    public static ServerOptions defaults() {
        return new ServerOptions("127.0.0.1", 8080, null, 32L << 20, 20L << 20, 40_000_000, null, 256, 30);
    }

    public ServerOptions withPort(int p) {
        return new ServerOptions(host, p, apiKey, maxBodyBytes, maxImageBytes, maxImagePixels, localImages, maxTokens, graceSeconds);
    }

    public ServerOptions withApiKey(String k) {
        return new ServerOptions(host, port, k, maxBodyBytes, maxImageBytes, maxImagePixels, localImages, maxTokens, graceSeconds);
    }

    public ServerOptions withLimits(long body, long imageBytes, long imagePixels) {
        return new ServerOptions(host, port, apiKey, body, imageBytes, imagePixels, localImages, maxTokens, graceSeconds);
    }

    public ServerOptions withLocalImages(Path dir) {
        return new ServerOptions(host, port, apiKey, maxBodyBytes, maxImageBytes, maxImagePixels, dir, maxTokens, graceSeconds);
    }
}
