package proxy.exchange;

import proxy.listen.ParseFailureAnswer;

/**
 * The one table of the answers the proxy gives itself, when it and not a backend ends a request: each outcome
 * with its status and short plain-text body. A {@link ClientFault} names its row; a backend's failure (502, 503,
 * 504, as the {@code FailurePolicy} decided), the body limit and an unrouted request have rows of their own;
 * Undertow's parser refusals are answered below any exchange, by {@link ParseFailureAnswer}, with the words of
 * {@link #UNPARSEABLE}. Immutable.
 */
public enum ProxyAnswer {
    BAD_FRAMING(400, "400 Bad Request: the request's framing headers (Content-Length, Transfer-Encoding) are malformed or conflict\n"),
    BAD_TARGET(400, "400 Bad Request: the request target is not a valid origin-form or http(s) absolute-form URI\n"),
    UNKNOWN_CODING(501, "501 Not Implemented: the only transfer coding accepted is a single \"chunked\"\n"),
    MALFORMED_CHUNK(400, "400 Bad Request: the chunked request body is malformed\n"),
    BODY_TOO_LARGE(413, "413 Content Too Large: the request body is over the proxy's limit (--max-body-size)\n"),
    BODY_TIMEOUT(408, "408 Request Timeout: the request body stopped arriving (--body-timeout)\n"),
    MALFORMED_HTTP2(400, "400 Bad Request: the HTTP/2 request is malformed (RFC 9113 section 8.2)\n"),
    CLIENT_ABORTED(400, "400 Bad Request: the client closed the connection before its request body was complete\n"),
    UNPARSEABLE(400, ParseFailureAnswer.BODY),
    NO_ROUTE(404, "404 Not Found: no route for this host and path\n"),
    /** Its body names what the backend did: {@link #body(String)}. */
    BACKEND_FAILED(502, "502 Bad Gateway: the backend %s\n"),
    NO_BACKEND(503, "503 Service Unavailable: no backend could take the request\n"),
    BACKEND_TIMEOUT(504, "504 Gateway Timeout: the backend did not answer in time (--timeout)\n");

    private final int status;
    private final String body;

    ProxyAnswer(int status, String body) {
        this.status = status;
        this.body = body;
    }

    public int status() {
        return status;
    }

    /** The plain-text body; for {@link #BACKEND_FAILED}, with "what it did" left to {@link #body(String)}. */
    public String body() {
        return body;
    }

    /** {@link #BACKEND_FAILED}'s body naming what the backend did ("reset the connection without answering"). */
    public String body(String backendDid) {
        return String.format(body, backendDid);
    }

    /**
     * The row of a request ProxyHandler ended with a bare status after the {@code FailurePolicy} decided it, or
     * after the body limit stopped it; null for a status the proxy does not answer with a body of its own.
     */
    static ProxyAnswer forStatus(int status) {
        return switch (status) {
            case 413 -> BODY_TOO_LARGE;
            case 502 -> BACKEND_FAILED;
            case 503 -> NO_BACKEND;
            case 504 -> BACKEND_TIMEOUT;
            default -> null;
        };
    }
}
