package proxy.exchange;

/**
 * Why a request failed because of its client rather than a backend: bad framing, an unsupported
 * transfer coding, a body that stopped arriving or was abandoned. Noted on the {@link ProxiedRequest} by the guard
 * that noticed, so the answer says what the client did (its row in {@link ProxyAnswer}) and health accounting
 * never blames the backend for it ({@link Attempts}, {@link FailureHook}). Immutable.
 */
public enum ClientFault {
    /** A head whose framing cannot be trusted: Content-Length with Transfer-Encoding, a bad length, a list or duplicate coding. */
    BAD_FRAMING(ProxyAnswer.BAD_FRAMING),
    /** A request target we cannot route unambiguously: an absolute-form URI with a foreign scheme, userinfo or no host. */
    BAD_TARGET(ProxyAnswer.BAD_TARGET),
    /** A transfer coding other than exactly one {@code chunked}. */
    UNKNOWN_CODING(ProxyAnswer.UNKNOWN_CODING),
    /** A chunked body whose chunk sizes, line ends or trailers break RFC 9112 section 7.1. */
    MALFORMED_CHUNK(ProxyAnswer.MALFORMED_CHUNK),
    /** A chunked body that grew over --max-body-size. */
    BODY_TOO_LARGE(ProxyAnswer.BODY_TOO_LARGE),
    /** No body bytes arrived for --body-timeout while the proxy waited for them. */
    BODY_TIMEOUT(ProxyAnswer.BODY_TIMEOUT),
    /** An HTTP/2 request with a field RFC 9113 section 8.2 forbids, or a body that disagrees with its content-length. */
    MALFORMED_HTTP2(ProxyAnswer.MALFORMED_HTTP2),
    /** The client closed or reset its connection before its body was complete. */
    ABORTED(ProxyAnswer.CLIENT_ABORTED);

    private final ProxyAnswer answer;

    ClientFault(ProxyAnswer answer) {
        this.answer = answer;
    }

    public int status() {
        return answer.status();
    }

    /** The short plain-text body of the proxy's answer. */
    public String body() {
        return answer.body();
    }
}
