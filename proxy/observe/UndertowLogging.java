package proxy.observe;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Undertow logs through java.util.logging: INFO banners at start, and an ERROR with a stack trace for
 * every backend that fails a request, which the proxy already turns into a clear 502, 503 or 504 for
 * the client. This silences Undertow and keeps XNIO's warnings. The loggers are held in fields because
 * JUL only keeps them weakly, and a collected logger forgets its level.
 */
public final class UndertowLogging {
    private static final Logger UNDERTOW = Logger.getLogger("io.undertow");
    private static final Logger XNIO = Logger.getLogger("org.xnio");

    private UndertowLogging() {}

    public static void quiet() {
        UNDERTOW.setLevel(Level.OFF);
        XNIO.setLevel(Level.WARNING);
    }
}
