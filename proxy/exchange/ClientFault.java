package proxy.exchange;

/**
 * Why a request failed because of its client rather than a backend: bad framing, an unsupported
 * transfer coding, a body that stopped arriving or was abandoned. Noted on the {@link ProxiedRequest} by the guard
 * that noticed, so the answer says what the client did ({@link ErrorResponses}) and health accounting
 * never blames the backend for it ({@link Attempts}, {@link FailureHook}). Immutable.
 */
public enum ClientFault {
    /** A head whose framing cannot be trusted: Content-Length with Transfer-Encoding, a bad length, a list or duplicate coding. */
    BAD_FRAMING(400, "400 Bad Request: the request's framing headers (Content-Length, Transfer-Encoding) are malformed or conflict\n"),
    /** A request target we cannot route unambiguously: an absolute-form URI with a foreign scheme, userinfo or no host. */
    BAD_TARGET(400, "400 Bad Request: the request target is not a valid origin-form or http(s) absolute-form URI\n"),
    /** A transfer coding other than exactly one {@code chunked}. */
    UNKNOWN_CODING(501, "501 Not Implemented: the only transfer coding accepted is a single \"chunked\"\n"),
    /** A chunked body whose chunk sizes, line ends or trailers break RFC 9112 section 7.1. */
    MALFORMED_CHUNK(400, "400 Bad Request: the chunked request body is malformed\n"),
    /** A chunked body that grew over --max-body-size. */
    BODY_TOO_LARGE(413, "413 Content Too Large: the request body is over the proxy's limit (--max-body-size)\n"),
    /** No body bytes arrived for --body-timeout while the proxy waited for them. */
    BODY_TIMEOUT(408, "408 Request Timeout: the request body stopped arriving (--body-timeout)\n"),
    /** An HTTP/2 request with a field RFC 9113 section 8.2 forbids, or a body that disagrees with its content-length. */
    MALFORMED_HTTP2(400, "400 Bad Request: the HTTP/2 request is malformed (RFC 9113 section 8.2)\n"),
    /** The client closed or reset its connection before its body was complete. */
    ABORTED(400, "400 Bad Request: the client closed the connection before its request body was complete\n");

    private final int status;
    private final String body;

    ClientFault(int status, String body) {
        this.status = status;
        this.body = body;
    }

    public int status() {
        return status;
    }

    /** The short plain-text body of the proxy's answer. */
    public String body() {
        return body;
    }
}
