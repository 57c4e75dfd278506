package io.vladapt.api;

/**
 * A finished answer.
 *
 * @param text             the generated text (without the stop string that ended it)
 * @param promptTokens     tokens the model read (visual placeholders and soft prompts counted as the model sees them)
 * @param completionTokens tokens generated
 * @param finishReason     why it ended
 */
public record Completion(String text, int promptTokens, int completionTokens, FinishReason finishReason) {}
