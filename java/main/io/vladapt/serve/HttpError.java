package io.vladapt.serve;

/** A request the server refuses: the HTTP status, a message, and the request field at fault (or null). */
final class HttpError extends RuntimeException {
    final int status;
    final String param;
    final String type;

    HttpError(int status, String param, String message) {
        super(message);
        this.status = status;
        this.param = param;
        this.type = status == 401 ? "authentication_error" : status == 429 ? "rate_limit_error" : status >= 500 ? "server_error"
                : "invalid_request_error";
    }

    /** 400 naming the field. */
    static HttpError field(String param, String message) {
        return new HttpError(400, param, param + ": " + message);
    }
}
