package model;

/**
 * A load-balancing algorithm: given the backends a request may go to, pick one. The algorithms live in
 * {@code strategies/}; this contract lives in the model, beside what it is handed.
 *
 * <p>The contract, which every strategy keeps and the conformance tests check:
 * <ul>
 *   <li>{@code candidates} holds at least one backend that is not avoided; the result is one of
 *       {@link Candidates#all()} that {@link Candidates#isAvoided} is false for;</li>
 *   <li>whatever a strategy derives from the list (a ring, a schedule) it builds once per
 *       {@link Candidates#version()}, never per pick;</li>
 *   <li>{@code pick} runs on an IO thread, concurrently with other picks: it never blocks, never does
 *       I/O, and only reads backend bookkeeping (in-flight, latency); the proxy writes it.</li>
 * </ul>
 */
public interface Strategy {
    Backend pick(Candidates candidates, RequestView request);

    /**
     * Whether this strategy pins a client to a backend with a cookie of its own: then the proxy replaces
     * any {@code Set-Cookie} a failed try added with {@link #pinningCookie} of the backend finally picked.
     */
    default boolean pinsClients() {
        return false;
    }

    /**
     * The {@code Set-Cookie} value that pins this client to {@code chosen}, or null when none is needed
     * (the request already carries it, or the strategy pins nobody).
     */
    default String pinningCookie(RequestView request, Backend chosen) {
        return null;
    }
}
