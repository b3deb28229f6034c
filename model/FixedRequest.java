package model;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** An immutable {@link RequestView} built from plain values. Thread-safe. */
final class FixedRequest implements RequestView {
    private final String clientAddress;
    private final String method;
    private final String path;
    private final Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private final Map<String, String> cookies;

    FixedRequest(String clientAddress, String method, String path, Map<String, String> headers, Map<String, String> cookies) {
        this.clientAddress = clientAddress;
        this.method = method.toUpperCase(Locale.ROOT);
        this.path = path;
        this.headers.putAll(headers);
        this.cookies = Map.copyOf(cookies);
    }

    @Override public String clientAddress() { return clientAddress; }
    @Override public String method() { return method; }
    @Override public String path() { return path; }
    @Override public String header(String name) { return headers.get(name); }
    @Override public String cookie(String name) { return cookies.get(name); }
}
