package example;

import io.vladapt.api.ChatRequest;
import io.vladapt.api.ImageInput;
import io.vladapt.api.Sampling;
import io.vladapt.api.VisionLanguageModel;
import java.nio.file.Path;

/**
 * Asks a LaVIN model about an image and prints the answer as it is written.
 *
 * <pre>java -jar target/chat-app.jar LLM_DIR VIT_DIR ADAPTER_DIR IMAGE "question" [max tokens]</pre>
 */
public final class ChatApp {
    public static void main(String[] args) {
        if (args.length < 5) {
            System.err.println("usage: chat-app LLM_DIR VIT_DIR ADAPTER_DIR IMAGE QUESTION [MAX_TOKENS]");
            System.exit(2);
        }
        int maxTokens = args.length > 5 ? Integer.parseInt(args[5]) : 64;
        try (VisionLanguageModel model = VisionLanguageModel.lavin(Path.of(args[0]), Path.of(args[1]), Path.of(args[2])).load()) {
            ChatRequest question = ChatRequest.of(ImageInput.of(Path.of(args[3])), args[4]).withSampling(Sampling.greedy(maxTokens));
            model.generate(question, System.out::print);
            System.out.println();
        }
    }
}
