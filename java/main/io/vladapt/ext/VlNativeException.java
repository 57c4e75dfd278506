package io.vladapt.ext;

/** A native op failed after Java-side validation passed; the message names the op and its inputs. */
public class VlNativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public VlNativeException(String message, Throwable cause) {
        super(message, cause);
    }
}
