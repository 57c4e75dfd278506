package io.vladapt.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
import io.vladapt.api.ChatRequest;
import io.vladapt.api.Completion;
import io.vladapt.api.ImageInput;
import io.vladapt.api.Sampling;
import io.vladapt.api.TinyModels;
import io.vladapt.api.VisionLanguageModel;
import io.vladapt.testutil.T;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** LangChain4j's ChatModel and StreamingChatModel over the API, with an ImageContent. */
class LangChain4jTest {
    @Test
    void chatModelWithAnImageContentAnswersLikeTheApi() throws Exception {
        T.opts(org.bytedeco.pytorch.global.torch.ScalarType.Float);
        TinyModels t = TinyModels.get();
        byte[] png = TinyModels.png(7, 36, 28);
        try (VisionLanguageModel m = VisionLanguageModel.lavin(t.llm, t.vit, t.adapter).dtype("float32").load()) {
            Completion api = m.generate(new ChatRequest("what is in the image", ImageInput.of(png), Sampling.greedy(10), null));
            UserMessage user = UserMessage.from(TextContent.from("what is in the image"),
                    ImageContent.from(Base64.getEncoder().encodeToString(png), "image/png"));
            VladaptChatModel chat = new VladaptChatModel(m, Sampling.greedy(10));
            ChatResponse r = chat.chat(user);
            assertEquals(api.text(), r.aiMessage().text());
            assertEquals(api.completionTokens(), r.tokenUsage().outputTokenCount());
            // request parameters override the defaults: max output tokens 3 ends by length
            ChatResponse shortOne = chat.chat(dev.langchain4j.model.chat.request.ChatRequest.builder().messages(user)
                    .parameters(ChatRequestParameters.builder().maxOutputTokens(3).build()).build());
            assertEquals(FinishReason.LENGTH, shortOne.finishReason());
            assertTrue(api.text().startsWith(shortOne.aiMessage().text()), shortOne.aiMessage().text());

            StringBuilder pieces = new StringBuilder();
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            new VladaptStreamingChatModel(m, Sampling.greedy(10)).chat(java.util.List.of(user), new StreamingChatResponseHandler() {
                @Override
                public void onPartialResponse(String s) {
                    pieces.append(s);
                }

                @Override
                public void onCompleteResponse(ChatResponse c) {
                    done.complete(c);
                }

                @Override
                public void onError(Throwable e) {
                    done.completeExceptionally(e);
                }
            });
            assertEquals(api.text(), done.get(60, TimeUnit.SECONDS).aiMessage().text());
            assertEquals(api.text(), pieces.toString());
        }
    }
}
