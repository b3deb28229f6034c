package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import proxy.request.ForwardedHeaders;
import proxy.ProxyServer;

/**
 * What a backend (a raw socket recording every request head) receives as forwarding headers: from a
 * peer in {@code --trust-forwarded}, X-Forwarded-For appended and -Proto/-Host kept; from anyone else,
 * the proxy's own values only; X-Forwarded-Port always the port the client connected to; with
 * {@code --forwarded}, an RFC 7239 Forwarded header. Exactly one of each, whatever the client sent.
 */
class ForwardedHeadersTest {
    private static final String CLIENT_FORWARDING = "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-For: 198.51.100.2\r\n"
            + "X-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example\r\nX-Forwarded-Port: 443\r\n"
            + "X-Forwarded-Server: fake\r\nForwarded: for=203.0.113.7;proto=https\r\n";
    private final TestSupport support = new TestSupport();

    @AfterEach
    void stopEverything() {
        support.close();
    }

    @Test
    void fromATrustedPeerForwardedForIsAppendedAndProtoAndHostKept() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        ProxyServer proxy = support.proxy(backend.url());
        proxy.setForwardedHeaders(new ForwardedHeaders(ForwardedHeaders.parseCidrs("10.0.0.0/8, 127.0.0.1"), false));

        String head = forward(proxy, backend, "Host: 127.0.0.1:" + proxy.port() + "\r\n" + CLIENT_FORWARDING);

        // ProxyHandler appends with a bare comma; list parsers split on commas either way.
        assertEquals(List.of("203.0.113.7, 198.51.100.2, 127.0.0.1"), values(head, "X-Forwarded-For"), "appended as nginx does, after \", \"");
        assertEquals(List.of("https"), values(head, "X-Forwarded-Proto"));
        assertEquals(List.of("shop.example"), values(head, "X-Forwarded-Host"));
        assertEquals(List.of(String.valueOf(proxy.port())), values(head, "X-Forwarded-Port"));
        assertEquals(1, values(head, "X-Forwarded-Server").size());
        assertFalse(values(head, "X-Forwarded-Server").contains("fake"));
        assertEquals(List.of("for=203.0.113.7;proto=https"), values(head, "Forwarded"), "a trusted proxy's Forwarded passes as it was");
    }

    @Test
    void fromAnUntrustedPeerTheyAreReplacedByTheProxysOwn() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        ProxyServer proxy = support.proxy(backend.url());
        proxy.setForwardedHeaders(new ForwardedHeaders(ForwardedHeaders.parseCidrs("10.0.0.0/8,192.168.0.0/16"), false));

        String head = forward(proxy, backend, "Host: 127.0.0.1:" + proxy.port() + "\r\n" + CLIENT_FORWARDING);

        assertEquals(List.of("127.0.0.1"), values(head, "X-Forwarded-For"));
        assertEquals(List.of("http"), values(head, "X-Forwarded-Proto"));
        assertEquals(List.of("127.0.0.1:" + proxy.port()), values(head, "X-Forwarded-Host"), "the Host as sent, port and all");
        assertEquals(List.of(String.valueOf(proxy.port())), values(head, "X-Forwarded-Port"));
        assertEquals(List.of(), values(head, "Forwarded"), "the client's own Forwarded never reaches the backend");
    }

    @Test
    void forwardedPortIsTheListenersPortNotTheOneInTheHostHeader() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        ProxyServer proxy = support.proxy(backend.url()); // the default: trust nobody

        String head = forward(proxy, backend, "Host: shop.example:9999\r\n");

        assertEquals(List.of(String.valueOf(proxy.port())), values(head, "X-Forwarded-Port"), "Undertow alone would say 9999");
        assertEquals(List.of("shop.example:9999"), values(head, "Host"), "the Host itself passes unchanged");
    }

    @Test
    void withForwardedOnAnRfc7239HeaderIsAddedOrAppendedTo() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        ProxyServer proxy = support.proxy(backend.url());
        proxy.setForwardedHeaders(new ForwardedHeaders(List.of(), true));
        String host = "127.0.0.1:" + proxy.port();

        String untrusted = forward(proxy, backend, "Host: " + host + "\r\n" + CLIENT_FORWARDING);
        assertEquals(List.of("for=127.0.0.1;proto=http;host=\"" + host + "\""), values(untrusted, "Forwarded"));

        proxy.setForwardedHeaders(new ForwardedHeaders(ForwardedHeaders.parseCidrs("127.0.0.0/8"), true));
        String trusted = forward(proxy, backend, "Host: " + host + "\r\n" + CLIENT_FORWARDING);
        assertEquals(List.of("for=203.0.113.7;proto=https, for=127.0.0.1;proto=http;host=\"" + host + "\""), values(trusted, "Forwarded"));
    }

    /**
     * Issue 20: CGI, WSGI and PHP read {@code X_Forwarded_For} as {@code HTTP_X_FORWARDED_FOR}, so an
     * underscore twin would let a client pick its own address. Dropped by default, as nginx does
     * ({@code underscores_in_headers off}); {@code --allow-underscores-in-headers} lets them through.
     */
    @Test
    void headerNamesWithUnderscoresAreDroppedUnlessAllowed() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        ProxyServer proxy = support.proxy(backend.url());
        String twins = "Host: shop.example\r\nX_Forwarded_For: 6.6.6.6\r\nx_real_ip: 6.6.6.7\r\nX-Custom_Name: a\r\nX-Plain: kept\r\n";

        String dropped = forward(proxy, backend, twins);
        assertEquals(List.of("127.0.0.1"), values(dropped, "X-Forwarded-For"));
        for (String name : List.of("X_Forwarded_For", "x_real_ip", "X-Custom_Name")) {
            assertEquals(List.of(), values(dropped, name), name + " never reaches the backend:\n" + dropped);
        }
        assertFalse(dropped.contains("6.6.6."), dropped);
        assertEquals(List.of("kept"), values(dropped, "X-Plain"));
        assertEquals(List.of("shop.example"), values(dropped, "Host"));

        proxy.setAllowUnderscoresInHeaders(true);
        String allowed = forward(proxy, backend, twins);
        assertEquals(List.of("6.6.6.6"), values(allowed, "X_Forwarded_For"));
        assertEquals(List.of("6.6.6.7"), values(allowed, "x_real_ip"));
        assertEquals(List.of("a"), values(allowed, "X-Custom_Name"));
        assertEquals(List.of("127.0.0.1"), values(allowed, "X-Forwarded-For"), "the proxy's own stays as it is");
    }

    @Test
    void ipv6ClientsAreQuotedAsTheRfcRequires() throws Exception {
        InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("2001:db8:cafe::17"), 4711);
        assertEquals("for=\"[2001:db8:cafe:0:0:0:0:17]\";proto=http;host=example.com",
                ForwardedHeaders.forwardedElement(v6, "http", "example.com"));
        assertEquals("for=192.0.2.60;proto=https;host=\"[::1]:8080\"",
                ForwardedHeaders.forwardedElement(new InetSocketAddress(InetAddress.getByName("192.0.2.60"), 1), "https", "[::1]:8080"));
    }

    @Test
    void networksAreCheckedByPrefixAndBadOnesRefused() throws Exception {
        ForwardedHeaders trust = new ForwardedHeaders(ForwardedHeaders.parseCidrs("10.0.0.0/8,192.168.1.7,::1/128,2001:db8::/32"), false);
        assertTrue(trust.isTrusted(InetAddress.getByName("10.200.3.4")));
        assertFalse(trust.isTrusted(InetAddress.getByName("11.0.0.1")));
        assertTrue(trust.isTrusted(InetAddress.getByName("192.168.1.7")));
        assertFalse(trust.isTrusted(InetAddress.getByName("192.168.1.8")));
        assertTrue(trust.isTrusted(InetAddress.getByName("::1")));
        assertTrue(trust.isTrusted(InetAddress.getByName("2001:db8:ffff::1")));
        assertFalse(trust.isTrusted(InetAddress.getByName("127.0.0.1")));
        for (String bad : List.of("", "10.0.0.0/33", "10.0.0.0/x", "proxy.example", "::1/129")) {
            assertThrows(IllegalArgumentException.class, () -> ForwardedHeaders.parseCidrs(bad), bad);
        }
    }

    /** Sends one raw request with {@code headers} through the proxy; returns the head the backend received. */
    private static String forward(ProxyServer proxy, RawBackend backend, String headers) throws Exception {
        int before = backend.requestHeads().size();
        String response = TestSupport.rawExchange(proxy.port(), "GET /where HTTP/1.1\r\n" + headers + "Connection: close\r\n\r\n");
        assertTrue(response.startsWith("HTTP/1.1 200 "), response);
        assertEquals(before + 1, backend.requestHeads().size(), "one request reached the backend");
        return backend.requestHeads().get(before);
    }

    /** Every value of header {@code name} in a raw head, one per header line. */
    private static List<String> values(String head, String name) {
        List<String> values = new ArrayList<>();
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT))) {
                values.add(line.substring(colon + 1).trim());
            }
        }
        return values;
    }
}
