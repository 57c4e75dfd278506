package io.vladapt.langchain4j;

import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import io.vladapt.api.Sampling;
import io.vladapt.api.VisionLanguageModel;

/**
 * A LangChain4j {@link ChatModel} over a VLAdapt model, images included:
 * {@code chat(UserMessage.from(TextContent.from("What is this?"), ImageContent.from(base64, "image/png")))}.
 * Thread-safe (the model batches concurrent calls). The model stays the caller's to close.
 */
public final class VladaptChatModel implements ChatModel {
    private final VisionLanguageModel model;
    private final Sampling defaults;

    /** @param defaults decoding when a request sets none (e.g. {@code Sampling.greedy(256)}) */
    public VladaptChatModel(VisionLanguageModel model, Sampling defaults) {
        this.model = model;
        this.defaults = defaults;
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        return Requests.response(model.generate(Requests.of(request, defaults)), model.info().id());
    }
}
