package strategies;

import model.Backend;

/**
 * A strategy that pins clients with a cookie. After each pick the proxy asks for the cookie that names
 * the chosen backend and sets it on the response when the client did not already send it.
 */
public interface StickySession {
    String cookieName();

    /** The cookie value that will bring this client back to {@code backend}. */
    String cookieValue(Backend backend);
}
