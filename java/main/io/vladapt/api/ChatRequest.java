package io.vladapt.api;

/**
 * One question for the model: text, an optional image, and decoding settings.
 *
 * @param text     the user's text
 * @param image    an image, or null for a text-only question
 * @param sampling decoding settings
 * @param template how the text is wrapped before tokenization ({@code {prompt}} marks the text), or
 *                 null for the model's default (see {@link ModelLoader#template})
 */
public record ChatRequest(String text, ImageInput image, Sampling sampling, String template) {
    public ChatRequest {
        if (text == null) throw new IllegalArgumentException("text must not be null (use \"\" for none)");
        if (sampling == null) throw new IllegalArgumentException("sampling must not be null");
        if (template != null && !template.contains("{prompt}")) throw new IllegalArgumentException("template must contain {prompt}: " + template);
    }

    /** Greedy, up to 64 tokens, the model's template. */
    public static ChatRequest of(ImageInput image, String text) {
        return new ChatRequest(text, image, Sampling.greedy(64), null);
    }

    public static ChatRequest of(String text) {
        return of(null, text);
    }

    public ChatRequest withSampling(Sampling s) {
        return new ChatRequest(text, image, s, template);
    }

    public ChatRequest withTemplate(String t) {
        return new ChatRequest(text, image, sampling, t);
    }
}
