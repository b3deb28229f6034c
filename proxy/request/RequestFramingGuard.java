// Every other file of this folder: scripts list this one and JBang follows //SOURCES into it.
//SOURCES AbsoluteFormTarget.java DroppedRequestHeaders.java ExchangeRequestView.java ForwardedHeaders.java HopByHopHeaders.java Http2DeclaredLength.java Http2RequestGuard.java RequestBodyWatch.java StrictChunkedDecoder.java

package proxy.request;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import proxy.exchange.ClientFault;

/**
 * The client edge of request framing: decides from the request head whether the body can be framed
 * without doubt, and if so makes sure the backend sees the proxy's own framing. A request passes only
 * with no body framing, one plain decimal {@code Content-Length}, or exactly one {@code Transfer-Encoding:
 * chunked} on HTTP/1.1; its chunked body is then decoded by {@link StrictChunkedDecoder}. Everything
 * else is refused before a backend is picked: another coding (gzip, identity, xchunked) is 501, a list,
 * parameters, {@code chunked} twice, Transfer-Encoding on HTTP/1.0 or with Content-Length is 400, as
 * nginx does (RFC 9112 sections 6.1 and 6.3). Stateless.
 *
 * <p>What Undertow 2.4.4's parser already does before any handler of ours runs, answering its own
 * {@code 400} with an empty body and closing ({@code HttpReadListener.sendBadRequestAndClose}: a fixed
 * byte string written straight to the socket, past every handler and response listener, which
 * {@link ParseFailureAnswer} replaces with a plain-text one):
 * {@code Content-Length} together with {@code Transfer-Encoding}, two {@code Content-Length} or two
 * {@code Transfer-Encoding} lines ({@code Connectors.areRequestHeadersValid}), a {@code Content-Length}
 * that is not all digits ({@code HttpTransferEncoding.parsePositiveLong} throws), a head over the size
 * limit (400, not 431), a bare LF, bare CR or NUL in the head, a request line it cannot parse, an
 * unknown protocol version. An obs-fold it replaces with a space (RFC 9112 section 5.2 allows that),
 * so a folded {@code Transfer-Encoding:\r\n chunked} is judged, and forwarded, as {@code chunked}.
 * What it lets through and we close here: any single {@code Transfer-Encoding} value
 * other than {@code identity} is decoded as chunked ({@code HttpTransferEncoding.handleRequestEncoding}
 * only compares to "identity"), and forwarded as written; {@code identity} reads to the end of the
 * connection; a {@code Content-Length} of 19 or more digits silently overflows into a wrong length.
 */
public final class RequestFramingGuard {
    private static final String CHUNKED = "chunked";
    /** Up to 18 digits always fits a long. */
    private static final int MAX_LENGTH_DIGITS = 18;

    private RequestFramingGuard() {}

    /**
     * Checks the request's framing headers; on success normalises {@code Transfer-Encoding} and puts the
     * strict chunk decoder in place. Returns the client's fault, or null when the request may go on.
     */
    public static ClientFault check(HttpServerExchange exchange, int maxTrailerBytes) {
        if (Http2RequestGuard.isHttp2(exchange)) {
            return Http2RequestGuard.check(exchange); // no chunking in HTTP/2: its own rules
        }
        HeaderMap headers = exchange.getRequestHeaders();
        HeaderValues transferEncoding = headers.get(Headers.TRANSFER_ENCODING);
        HeaderValues contentLength = headers.get(Headers.CONTENT_LENGTH);
        if (contentLength != null && (contentLength.size() != 1 || !isPlainLength(contentLength.getFirst()))) {
            return ClientFault.BAD_FRAMING;
        }
        if (transferEncoding == null) {
            if (contentLength != null) {
                // The proxy's own canonical length, as nginx sends it: "010" goes on as "10", never as written
                // (a backend that reads a leading zero as octal would take 8 bytes and the rest as a request).
                headers.put(Headers.CONTENT_LENGTH, Long.parseLong(contentLength.getFirst()));
            }
            return null;
        }
        if (contentLength != null || transferEncoding.size() != 1 || !exchange.isHttp11()) {
            return ClientFault.BAD_FRAMING;
        }
        ClientFault coding = judgeCoding(transferEncoding.getFirst());
        if (coding != null) {
            return coding;
        }
        headers.put(Headers.TRANSFER_ENCODING, CHUNKED); // "CHUNKED" or "Chunked" as the client wrote it never goes on
        if (!exchange.isRequestComplete() && !StrictChunkedDecoder.install(exchange, maxTrailerBytes)) {
            return ClientFault.BAD_FRAMING;
        }
        return null;
    }

    /** Null for exactly "chunked"; 501 for a coding we do not decode; 400 for a list or parameters that are chunked only. */
    private static ClientFault judgeCoding(String value) {
        if (value.equalsIgnoreCase(CHUNKED)) {
            return null;
        }
        for (String element : value.split(",", -1)) {
            String coding = element.strip();
            int parameters = coding.indexOf(';');
            String name = (parameters < 0 ? coding : coding.substring(0, parameters)).strip();
            if (name.isEmpty() || !isToken(name)) {
                return ClientFault.BAD_FRAMING;
            }
            if (!name.equalsIgnoreCase(CHUNKED)) {
                return ClientFault.UNKNOWN_CODING;
            }
        }
        return ClientFault.BAD_FRAMING; // "chunked, chunked", "chunked;q=1": chunked, but not as RFC 9112 allows
    }

    /** Whether {@code value} is a Content-Length as RFC 9110 §8.6 writes it (1*DIGIT), short enough to fit a long. */
    static boolean isPlainLength(String value) {
        if (value.isEmpty() || value.length() > MAX_LENGTH_DIGITS) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    private static boolean isToken(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean tchar = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!tchar) {
                return false;
            }
        }
        return true;
    }
}
