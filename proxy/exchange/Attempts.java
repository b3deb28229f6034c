package proxy.exchange;

import proxy.listen.Tunnel;
import io.undertow.client.ClientConnection;
import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpServerExchange;
import java.util.ArrayList;
import java.util.List;
import model.Backend;
import model.Failure;
import model.FailurePolicy;
import model.HealthMonitor;
import org.xnio.IoUtils;
import proxy.upstream.ResponseHeadGuard;

/**
 * What happened to one client request so far: which backends were tried, which one has it now, and the
 * {@link FailurePolicy}'s decision on the last failed try, which the answer and health accounting follow.
 * Keeps the in-flight bookkeeping honest: each backend's count goes up when it is handed the request and
 * down exactly once, when the next attempt replaces it or the exchange completes (a {@link Tunnel}: when it closes). Confined to the
 * exchange's IO thread, so unsynchronized.
 */
public final class Attempts implements ExchangeCompletionListener {
    private final HealthMonitor health;
    private final FailurePolicy policy;
    private final String method;
    private final List<Backend> tried = new ArrayList<>(2);
    private Backend current;
    private ClientConnection connection;
    private ResponseHeadGuard guard;
    private boolean bodyReplayable = true;
    private Failure failure;
    private FailurePolicy.Decision decision;
    private long sentAtNanos;
    private boolean exchangeComplete;

    /** Made by {@link ProxiedRequest#attempts}, which ties it to the exchange's completion. */
    Attempts(HealthMonitor health, FailurePolicy policy, String method) {
        this.health = health;
        this.policy = policy;
        this.method = method;
    }

    /** The backends already tried for this request, first to last: what {@link model.Routing} avoids. */
    public List<Backend> tried() {
        return tried;
    }

    public void chose(Backend backend) {
        tried.add(backend);
    }

    public int count() {
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

    /** The connection the request was sent on, or null before one was handed out. */
    public ClientConnection connection() {
        return connection;
    }

    /**
     * A connection to {@code backend} was handed to the proxy: the request goes there now, its answer
     * read through {@code guard}. {@code bodyReplayable} is whether the whole request is already read,
     * the condition under which Undertow's ProxyHandler keeps the means to send it again.
     */
    public void sending(Backend backend, ClientConnection connection, ResponseHeadGuard guard, boolean bodyReplayable) {
        this.connection = connection;
        this.guard = guard;
        finishCurrent(-1);
        if (exchangeComplete) {
            return; // a connect that finished after a timeout already answered the client
        }
        current = backend;
        sentAtNanos = System.nanoTime();
        this.bodyReplayable = bodyReplayable;
        failure = null;
        decision = null;
        backend.requestStarted();
    }

    /**
     * Asks the {@link FailurePolicy} what {@code failure} of the try under way means, keeps the decision
     * for the answer, and tells health when it blames the backend: {@code connecting} when the connect
     * failed, else the one holding the request.
     */
    public FailurePolicy.Decision failed(Failure failure, Backend connecting) {
        return failed(failure, connecting, null);
    }

    private FailurePolicy.Decision failed(Failure failure, Backend connecting, String reason) {
        FailurePolicy.Decision decided = policy.decide(failure, method, bodyReplayable, decision);
        if (reason != null) {
            decided = decided.because(reason); // what exactly the backend did: reset, closed mid-head, garbage
        }
        Backend blamed = connecting != null ? connecting : current;
        if (decided.blamesBackend() && blamed != null) {
            health.failed(blamed, decided.reason());
        }
        this.failure = failure;
        this.decision = decided;
        return decided;
    }

    /**
     * The backend holding the request failed before answering: closed or reset, unless its answer's guard
     * refused what it sent. Decided once per attempt, however many of ProxyHandler's paths report it.
     *
     * @param whileSending whether the request body was still on its way to the backend when it failed
     */
    FailurePolicy.Decision backendFailed(boolean whileSending) {
        if (failure == Failure.CLOSED_BEFORE_ANSWER || failure == Failure.MALFORMED_ANSWER) {
            return decision;
        }
        ResponseHeadGuard.Refusal refusal = guard == null ? null : guard.refusal();
        boolean closed = refusal == null || refusal.wentAway();
        String reason = guard == null ? null : guard.failure();
        if (whileSending && (refusal == null || refusal.whileSending() != null)) {
            // It did not fail to answer: it gave up on the request before it had all of it.
            reason = refusal == null ? "reset or closed the connection while the request was being sent" : refusal.whileSending();
        }
        return failed(closed ? Failure.CLOSED_BEFORE_ANSWER : Failure.MALFORMED_ANSWER, null, reason);
    }

    /** Whether a backend holds the request now: a connection to it was handed out and the exchange goes on. */
    boolean hasBackend() {
        return current != null;
    }

    /** The policy's decision on the last failed try, or null when none failed since the request was last sent. */
    FailurePolicy.Decision decision() {
        return decision;
    }

    @Override
    public void exchangeEvent(HttpServerExchange exchange, NextListener next) {
        exchangeComplete = true;
        // An exchange can end with its backend's answer still on the way (a client that reset its HTTP/2
        // stream): Undertow's pool takes such a connection back all the same, and the next request on it would
        // read this answer. Closed, the pool drops it.
        // Closed once this exchange is over, not while it completes: ProxyHandler's close listener on the backend
        // connection would take the client's connection with it, keep-alive answer and all.
        if (connection != null && connection.isOpen() && ResponseHeadGuard.isMidAnswer(connection)) {
            ClientConnection leftover = connection;
            leftover.getIoThread().execute(() -> IoUtils.safeClose(leftover));
        }
        // A failure the policy decided on was counted then; a request the client broke (bad body, body
        // timeout, abort) says nothing about the backend; otherwise the backend's own answer judges it.
        ProxiedRequest request = ProxiedRequest.peek(exchange);
        boolean clientFault = request != null && request.clientFault() != null;
        if (current != null && failure == null && !clientFault) {
            int status = exchange.getStatusCode();
            if (status == 502 || status == 503 || status == 504) {
                health.failed(current, "status " + status);
            } else {
                health.succeeded(current);
            }
        }
        // A broken answer teaches nothing about latency; a timed-out one does: the wait is the point.
        boolean learnedNothing = clientFault || failure == Failure.CLOSED_BEFORE_ANSWER || failure == Failure.MALFORMED_ANSWER;
        long latencyNanos = learnedNothing ? -1 : System.nanoTime() - sentAtNanos;
        if (current != null && Tunnel.opens(exchange)) {
            // The backend holds the tunnel until it closes: least-connections must see it busy till then. Its
            // latency is the wait for the 101, not the tunnel's lifetime.
            Backend holding = current;
            current = null;
            Tunnel.whenClosed(exchange, (received, sent) -> holding.requestFinished(latencyNanos));
        } else {
            finishCurrent(latencyNanos);
        }
        next.proceed();
    }

    private void finishCurrent(long latencyNanos) {
        if (current != null) {
            current.requestFinished(latencyNanos);
            current = null;
        }
    }
}
