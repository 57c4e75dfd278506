package io.vladapt.io;

/**
 * A file users brought is malformed, lies about itself, or holds something VLAdapt does not
 * understand. The message names the file and the tensor or field.
 */
public class FormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public FormatException(String message) {
        super(message);
    }

    public FormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
