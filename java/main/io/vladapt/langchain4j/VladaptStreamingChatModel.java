package io.vladapt.langchain4j;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import io.vladapt.api.Completion;
import io.vladapt.api.Sampling;
import io.vladapt.api.TokenStream;
import io.vladapt.api.VisionLanguageModel;

/**
 * A LangChain4j {@link StreamingChatModel} over a VLAdapt model: text pieces reach
 * {@code onPartialResponse} as the model writes them, from a thread of this class; images as in
 * {@link VladaptChatModel}. An exception thrown by the handler cancels the generation.
 */
public final class VladaptStreamingChatModel implements StreamingChatModel {
    private final VisionLanguageModel model;
    private final Sampling defaults;

    public VladaptStreamingChatModel(VisionLanguageModel model, Sampling defaults) {
        this.model = model;
        this.defaults = defaults;
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        TokenStream s;
        try {
            s = model.stream(Requests.of(request, defaults));
        } catch (RuntimeException e) {
            handler.onError(e);
            return;
        }
        Thread t = new Thread(() -> {
            try (s) {
                while (s.hasNext()) handler.onPartialResponse(s.next());
                Completion c = s.completion();
                handler.onCompleteResponse(Requests.response(c, model.info().id()));
            } catch (RuntimeException e) {
                handler.onError(e);
            }
        }, "vladapt-langchain4j-stream");
        t.setDaemon(true);
        t.start();
    }
}
