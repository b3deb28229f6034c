package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import proxy.ProxyServer;

/**
 * Every case of {@link HostileBackendConformanceTest} again, on a routed config (the backend as one of two
 * upstreams, behind a catch-all after a host route and six path routes) instead of a single pool: what a
 * hostile backend can do to a client must not depend on how the request was routed.
 */
class RoutedHostileBackendConformanceTest extends HostileBackendConformanceTest {
    @Override
    TestSupport newSupport() {
        return TestSupport.routed();
    }

    @Test
    void theCasesRunBehindRoutes() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        ProxyServer proxy = support.proxy(backend.url());
        assertEquals(List.of("app", "decoy"), List.copyOf(proxy.pools().keySet()));
        assertTrue(TestSupport.rawExchange(proxy.port(), "GET /x HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n").endsWith("\r\n\r\nok"));
        String decoy = TestSupport.rawExchange(proxy.port(), "GET /decoy-3/x HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n");
        assertTrue(decoy.startsWith("HTTP/1.1 502 ") || decoy.startsWith("HTTP/1.1 503 "), "the decoy route's upstream refuses: " + decoy);
        assertEquals(1, backend.requestHeads().size(), "only the request the catch-all took reached the backend");
    }
}
