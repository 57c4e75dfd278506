package io.vladapt.langchain4j;

import dev.langchain4j.data.image.Image;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import io.vladapt.api.ChatRequest;
import io.vladapt.api.Completion;
import io.vladapt.api.ImageInput;
import io.vladapt.api.Sampling;
import java.net.URI;
import java.nio.file.Path;
import java.util.Base64;

/**
 * LangChain4j requests to VLAdapt's: the conversation's text in order becomes one prompt (the models
 * answer single turns), the one {@link ImageContent} comes along (base64 data, a data: URL or a
 * file: URI), and the request's temperature, top-p, top-k, max output tokens and stop sequences
 * override the model's defaults.
 */
final class Requests {
    private Requests() {}

    static ChatRequest of(dev.langchain4j.model.chat.request.ChatRequest r, Sampling defaults) {
        if (r.toolSpecifications() != null && !r.toolSpecifications().isEmpty()) {
            throw new IllegalArgumentException("VLAdapt models do not call tools");
        }
        StringBuilder text = new StringBuilder();
        ImageInput image = null;
        for (ChatMessage m : r.messages()) {
            if (m instanceof SystemMessage s) append(text, s.text());
            else if (m instanceof AiMessage a && a.text() != null) append(text, a.text());
            else if (m instanceof UserMessage u) {
                for (Content c : u.contents()) {
                    if (c instanceof TextContent t) append(text, t.text());
                    else if (c instanceof ImageContent ic) {
                        if (image != null) throw new IllegalArgumentException("only one image per request is supported");
                        image = image(ic.image());
                    } else throw new IllegalArgumentException("unsupported content " + c.type() + " (text and images only)");
                }
            }
        }
        return new ChatRequest(text.toString(), image, sampling(r.parameters(), defaults), null);
    }

    private static void append(StringBuilder sb, String s) {
        if (sb.length() > 0 && !s.isEmpty()) sb.append('\n');
        sb.append(s);
    }

    static ImageInput image(Image img) {
        if (img.base64Data() != null) return ImageInput.of(Base64.getMimeDecoder().decode(img.base64Data()), "ImageContent");
        URI u = img.url();
        if (u == null) throw new IllegalArgumentException("ImageContent has neither data nor a URL");
        if ("data".equals(u.getScheme())) {
            String s = u.toString();
            int comma = s.indexOf(',');
            if (comma < 0 || !s.substring(0, comma).endsWith(";base64")) throw new IllegalArgumentException("data: URL must be base64");
            return ImageInput.of(Base64.getMimeDecoder().decode(s.substring(comma + 1)), "ImageContent data URL");
        }
        if ("file".equals(u.getScheme())) return ImageInput.of(Path.of(u));
        throw new IllegalArgumentException("remote image URLs are not fetched (" + u + "); pass the image's bytes");
    }

    private static Sampling sampling(ChatRequestParameters p, Sampling d) {
        if (p == null) return d;
        return new Sampling(p.maxOutputTokens() != null ? p.maxOutputTokens() : d.maxTokens(),
                p.temperature() != null ? p.temperature() : d.temperature(), p.topP() != null ? p.topP() : d.topP(),
                p.topK() != null ? p.topK() : d.topK(), d.seed(), p.stopSequences() != null && !p.stopSequences().isEmpty() ? p.stopSequences()
                : d.stop());
    }

    static ChatResponse response(Completion c, String model) {
        return ChatResponse.builder().aiMessage(AiMessage.from(c.text())).modelName(model)
                .tokenUsage(new TokenUsage(c.promptTokens(), c.completionTokens()))
                .finishReason(switch (c.finishReason()) {
                    case STOP -> FinishReason.STOP;
                    case LENGTH -> FinishReason.LENGTH;
                    case CANCELLED -> FinishReason.OTHER;
                }).build();
    }
}
