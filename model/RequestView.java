package model;

import java.util.Map;

/**
 * What a strategy may know about the request it routes: a read-only view, so strategies never see
 * Undertow types. The proxy's implementation reads lazily from the live exchange; a value the request
 * does not carry is {@code null}.
 */
public interface RequestView {
    /** The client's IP address as text ("127.0.0.1", "::1"); the TCP peer, not X-Forwarded-For. */
    String clientAddress();

    String method();

    /** The path without the query string, as the client sent it ("/a/b"). */
    String path();

    /** The first value of a request header, matched case-insensitively. */
    String header(String name);

    /** The value of a request cookie, matched exactly. */
    String cookie(String name);

    /** A fixed request, for tests, benchmarks and the lab: header names are matched case-insensitively. */
    static RequestView of(String clientAddress, String method, String path,
                          Map<String, String> headers, Map<String, String> cookies) {
        return new FixedRequest(clientAddress, method, path, headers, cookies);
    }

    /** A request view from a client address alone: what address-hashing tests need. */
    static RequestView fromClient(String clientAddress) {
        return of(clientAddress, "GET", "/", Map.of(), Map.of());
    }
}
