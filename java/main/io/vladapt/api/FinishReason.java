package io.vladapt.api;

/** Why a generation ended (OpenAI's finish_reason values, plus cancellation). */
public enum FinishReason {
    /** the model wrote its end-of-sequence token, or a stop string */
    STOP,
    /** max tokens reached */
    LENGTH,
    /** the caller cancelled (or a streaming client went away) */
    CANCELLED;

    /** "stop", "length", "cancelled". */
    public String openAiName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
