package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URI;
import model.Backend;
import model.BackendSpec;
import org.junit.jupiter.api.Test;

/**
 * How a backend written on the command line or sent to the admin API is read, with no server: the
 * accepted forms, what they normalize to, and each refusal's message, which tells the user the fix.
 * Loopback and literal addresses only, so no DNS lookup leaves the machine.
 */
class BackendSpecTest {

    @Test
    void aBackendIsHttpHostPortWithAnOptionalWeight() {
        Backend plain = BackendSpec.parse("http://127.0.0.1:9001");
        assertEquals(URI.create("http://127.0.0.1:9001"), plain.uri());
        assertEquals(1, plain.weight());

        Backend heavy = BackendSpec.parse(" http://127.0.0.1:9002/ , weight= 5 ");
        assertEquals(URI.create("http://127.0.0.1:9002"), heavy.uri(), "spaces and a trailing slash are dropped");
        assertEquals(5, heavy.weight());

        assertEquals(URI.create("http://127.0.0.1:80"), BackendSpec.parse("HTTP://127.0.0.1").uri(), "no port: 80, written out");
        assertEquals(URI.create("http://[::1]:9003"), BackendSpec.parse("http://[::1]:9003").uri());
        assertEquals(URI.create("https://localhost:443"), BackendSpec.parse("HTTPS://localhost").uri(), "https: 443, the name kept for SNI and the certificate check");
        assertEquals(URI.create("https://127.0.0.1:8443"), BackendSpec.parse("https://127.0.0.1:8443/").uri());
        assertEquals(1, BackendSpec.parse("http://127.0.0.1:9001,weight=1").weight());
        assertEquals(Backend.MAX_WEIGHT, BackendSpec.parse("http://127.0.0.1:9001,weight=" + Backend.MAX_WEIGHT).weight());
        assertEquals(65535, BackendSpec.parse("http://127.0.0.1:65535").uri().getPort());
        assertEquals(1, BackendSpec.parse("http://127.0.0.1:1").uri().getPort());
    }

    @Test
    void eachMistakeIsNamedWithItsFix() {
        assertRefused("127.0.0.1:9001", "'127.0.0.1:9001' has no scheme; write it like http://127.0.0.1:9001");
        assertRefused("ftp://127.0.0.1:9001", "'ftp://127.0.0.1:9001': the scheme must be http:// or https://");
        assertRefused("http://127.0.0.1:9001 x", "'http://127.0.0.1:9001 x' is not a valid URL (Illegal character in authority); write it like http://127.0.0.1:9001");
        assertRefused("http://:9001", "'http://:9001' has no valid host; write it like http://127.0.0.1:9001");
        assertRefused("http://127.0.0.1:9001?a=b", "'http://127.0.0.1:9001?a=b': a backend is http://HOST:PORT, without user, query or fragment");
        assertRefused("http://127.0.0.1:9001#top", "'http://127.0.0.1:9001#top': a backend is http://HOST:PORT, without user, query or fragment");
        assertRefused("http://me@127.0.0.1:9001", "'http://me@127.0.0.1:9001': a backend is http://HOST:PORT, without user, query or fragment");
        assertRefused("http://127.0.0.1:9001/app", "'http://127.0.0.1:9001/app': a backend is http://HOST:PORT, without a path");
        assertRefused("http://127.0.0.1:0", "'http://127.0.0.1:0': port 0 is not a port; use a number from 1 to 65535");
        assertRefused("http://127.0.0.1:65536", "'http://127.0.0.1:65536': port 65536 is not a port; use a number from 1 to 65535");
        assertRefused("http://127.0.0.1:9001,max=3", "'http://127.0.0.1:9001,max=3': after the URL only ,weight=N is understood");
        for (String weight : new String[] {"0", "-1", String.valueOf(Backend.MAX_WEIGHT + 1), "two", ""}) {
            String text = "http://127.0.0.1:9001,weight=" + weight;
            assertRefused(text, "'" + text + "': weight must be a whole number from 1 to " + Backend.MAX_WEIGHT);
        }
    }

    private static void assertRefused(String text, String message) {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> BackendSpec.parse(text), text);
        assertEquals(message, error.getMessage());
    }
}
