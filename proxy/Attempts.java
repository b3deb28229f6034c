package proxy;

import io.undertow.client.ClientConnection;
import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import java.util.ArrayList;
import java.util.List;
import model.Backend;
import model.HealthMonitor;

/**
 * What happened to one client request so far: which backends were tried, which one has it now, and
 * whether a backend failed after the request was sent to it. Keeps the in-flight bookkeeping honest:
 * each backend's count goes up when it is handed the request and down exactly once, when the next
 * attempt replaces it or the exchange completes. Confined to the exchange's IO thread, so unsynchronized.
 */
final class Attempts implements ExchangeCompletionListener {
    private static final AttachmentKey<Attempts> KEY = AttachmentKey.create(Attempts.class);

    private final HealthMonitor health;
    private final List<Backend> tried = new ArrayList<>(2);
    private Backend current;
    private ClientConnection connection;
    private ResponseHeadGuard guard;
    private String failure;
    private long sentAtNanos;
    private boolean backendFailedAfterSend;
    private boolean exchangeComplete;

    private Attempts(HealthMonitor health) {
        this.health = health;
    }

    /** The request's attempts, created and tied to the exchange's completion on first use. */
    static Attempts of(HttpServerExchange exchange, HealthMonitor health) {
        Attempts attempts = exchange.getAttachment(KEY);
        if (attempts == null) {
            attempts = new Attempts(health);
            exchange.putAttachment(KEY, attempts);
            exchange.addExchangeCompleteListener(attempts);
        }
        return attempts;
    }

    /** The request's attempts, or null when it never reached the proxy client. */
    static Attempts peek(HttpServerExchange exchange) {
        return exchange.getAttachment(KEY);
    }

    /** The backends already tried for this request, first to last: what {@link model.Routing} avoids. */
    List<Backend> tried() {
        return tried;
    }

    void chose(Backend backend) {
        tried.add(backend);
    }

    int count() {
        return tried.size();
    }

    /** The backends tried before the last one, oldest first; an empty list (no copy) when there was one try. */
    List<Backend> triedBeforeLast() {
        return tried.size() < 2 ? List.of() : List.copyOf(tried.subList(0, tried.size() - 1));
    }

    /** The backend chosen last: the one that answered, if any did; null before any was chosen. */
    Backend lastTried() {
        return tried.isEmpty() ? null : tried.get(tried.size() - 1);
    }

    /** The backend now holding the request, or null before one accepted a connection. */
    Backend current() {
        return current;
    }

    /** The connection the request was sent on, or null before one was handed out. */
    ClientConnection connection() {
        return connection;
    }

    /** A connection to {@code backend} was handed to the proxy: the request goes there now, its answer read through {@code guard}. */
    void sending(Backend backend, ClientConnection connection, ResponseHeadGuard guard) {
        this.connection = connection;
        this.guard = guard;
        finishCurrent(-1);
        if (exchangeComplete) {
            return; // a connect that finished after a timeout already answered the client
        }
        current = backend;
        sentAtNanos = System.nanoTime();
        backendFailedAfterSend = false;
        backend.requestStarted();
    }

    /**
     * The backend holding the request failed before answering (reset, closed, unreadable reply); counted
     * once per attempt, however many of ProxyHandler's paths report it.
     *
     * @param whileSending whether the request body was still on its way to the backend when it failed
     */
    void backendFailed(boolean whileSending) {
        if (backendFailedAfterSend) {
            return;
        }
        backendFailedAfterSend = true;
        String seen = guard == null ? null : guard.failure();
        if (whileSending && (seen == null || seen.endsWith("without answering"))) {
            // It did not fail to answer: it gave up on the request before it had all of it.
            failure = seen == null ? "reset or closed the connection while the request was being sent"
                    : seen.replace("without answering", "while the request was being sent");
        } else {
            failure = seen != null ? seen : "closed the connection without answering";
        }
        if (current != null) {
            health.failed(current, failure);
        }
    }

    /** What the last failed backend did, said as "the backend ...", for the 502's body; null if none failed. */
    String backendFailure() {
        return failure;
    }

    boolean didBackendFailAfterSend() {
        return backendFailedAfterSend;
    }

    @Override
    public void exchangeEvent(HttpServerExchange exchange, NextListener next) {
        exchangeComplete = true;
        // A request the client broke (bad body, body timeout, abort) says nothing about the backend.
        if (current != null && !backendFailedAfterSend && ClientFault.of(exchange) == null) {
            int status = exchange.getStatusCode();
            if (status == 502 || status == 503 || status == 504) {
                health.failed(current, "status " + status); // a 504 may be ours: it did not answer in time
            } else {
                health.succeeded(current);
            }
        }
        finishCurrent(backendFailedAfterSend || ClientFault.of(exchange) != null ? -1 : System.nanoTime() - sentAtNanos);
        next.proceed();
    }

    private void finishCurrent(long latencyNanos) {
        if (current != null) {
            current.requestFinished(latencyNanos);
            current = null;
        }
    }
}
