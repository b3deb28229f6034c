package model;

/**
 * What went wrong with one try of a request, as far as the proxy can tell: the kinds
 * {@link FailurePolicy} decides on. Immutable.
 */
public enum Failure {
    /** The backend refused the connection, or could not be reached: nothing was sent. */
    CONNECT_FAILED("refused the connection"),
    /**
     * Every connection the proxy may open to the backend is busy and the queue of requests waiting for one is full:
     * the proxy's own limit, reached, not the backend's failure; nothing was sent.
     */
    POOL_EXHAUSTED("had no free connection: too many requests were waiting for one"),
    /** The backend did not accept the connection within --connect-timeout: nothing was sent. */
    CONNECT_TIMED_OUT("did not accept the connection in time (--connect-timeout)"),
    /** The backend reset or closed the connection after the request was sent, before a complete answer head. */
    CLOSED_BEFORE_ANSWER("closed the connection without answering"),
    /** The backend answered something no server should: garbage, conflicting framing, an unasked 101, a head over the limit. */
    MALFORMED_ANSWER("sent an answer that is not valid HTTP"),
    /** The backend did not start answering within --timeout. */
    RESPONSE_TIMED_OUT("did not answer in time (--timeout)"),
    /** The client broke the request (bad framing, a stalled or abandoned body): no backend is to blame. */
    CLIENT_FAULT("the client broke the request");

    private final String reason;

    Failure(String reason) {
        this.reason = reason;
    }

    /** What the backend did, said after "the backend ": the default reason in the client's answer. */
    public String reason() {
        return reason;
    }

    /** Whether the request never left the proxy, so that any method may go to another backend. */
    public boolean isBeforeSend() {
        return this == CONNECT_FAILED || this == CONNECT_TIMED_OUT || this == POOL_EXHAUSTED;
    }
}
