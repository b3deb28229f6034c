package model;

import java.util.Set;

/**
 * Decides what one failed try of a request means: whether it goes to another backend or is answered,
 * with which status and reason, and whether the failure counts against the backend. The one place for
 * these rules, in order:
 * <ul>
 * <li>a client fault is answered (with the client fault's own status) and blames no backend;</li>
 * <li>a response timeout is answered 504, never retried: the backend may still be working on it, and
 *     a retry would add a second full wait, so the client waits at most --timeout (nginx, whose
 *     proxy_next_upstream retries a timeout by default, can make it wait several);</li>
 * <li>a connect that failed or timed out sent nothing, so any method may go elsewhere; if none may,
 *     the answer is 503 (no backend could take the request); a pool of connections full to its limit is
 *     the proxy's own limit and blames no backend;</li>
 * <li>a backend that closed, reset or answered garbage after the request was sent is answered 502,
 *     unless the method is idempotent (RFC 9110 section 9.2.2) and the request's body was not
 *     streamed to it already, so it can be sent again whole;</li>
 * <li>every retry is spent from the {@link RetryBudget}; when it is spent out, the request is answered;</li>
 * <li>when tries failed in different ways, the client hears of the one a backend had after receiving
 *     the request (502) rather than of a later backend that could not be reached (503).</li>
 * </ul>
 * Every failure but the client's counts against the backend. Thread-safe: the budget is lock-free.
 */
public final class FailurePolicy {
    /** RFC 9110's idempotent methods, as Undertow's IdempotentPredicate lists them. */
    private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE");

    private final RetryBudget budget;

    public FailurePolicy(RetryBudget budget) {
        this.budget = budget;
    }

    /**
     * The decision on one failed try: what the client gets if nothing else is tried, and whether to try elsewhere.
     *
     * @param retry          true: pick another backend, avoiding those tried; the status stands if none is left
     * @param status         502, 503 or 504 for a backend's failure; 400 for a client's (whose own fault names the exact status)
     * @param reason         what the backend did, said after "the backend ", for the answer's body
     * @param blamesBackend  whether passive health counts it against the backend that was tried
     */
    public record Decision(boolean retry, int status, String reason, boolean blamesBackend) {
        /** The same decision with a more precise reason (what exactly was malformed, say). */
        public Decision because(String reason) {
            return new Decision(retry, status, reason, blamesBackend);
        }
    }

    /** Counts a new request in the budget's share, so retries are allowed in proportion to traffic. */
    public void requestArrived() {
        budget.requestArrived();
    }

    /**
     * Decides on {@code failure} of a {@code method} request; spends one retry from the budget when the
     * decision is to retry.
     *
     * @param bodyReplayable whether the request can be sent again whole: false once part of a body was streamed
     * @param earlier        the decision on this request's previous failed try, or null for its first
     */
    public Decision decide(Failure failure, String method, boolean bodyReplayable, Decision earlier) {
        Decision decision = decideAlone(failure, method, bodyReplayable);
        if (earlier != null && earlier.status() == 502 && decision.status() == 503) {
            return new Decision(decision.retry(), 502, earlier.reason(), decision.blamesBackend());
        }
        return decision;
    }

    private Decision decideAlone(Failure failure, String method, boolean bodyReplayable) {
        return switch (failure) {
            case CLIENT_FAULT -> new Decision(false, 400, failure.reason(), false);
            case RESPONSE_TIMED_OUT -> new Decision(false, 504, failure.reason(), true);
            case CONNECT_FAILED, CONNECT_TIMED_OUT -> new Decision(budget.tryRetry(), 503, failure.reason(), true);
            case POOL_EXHAUSTED -> new Decision(budget.tryRetry(), 503, failure.reason(), false);
            case CLOSED_BEFORE_ANSWER, MALFORMED_ANSWER -> new Decision(
                    isIdempotent(method) && bodyReplayable && budget.tryRetry(), 502, failure.reason(), true);
        };
    }

    /** Whether sending {@code method} twice has the effect of sending it once (RFC 9110 section 9.2.2). */
    public static boolean isIdempotent(String method) {
        return IDEMPOTENT.contains(method);
    }
}
