package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import model.Failure;
import model.FailurePolicy;
import model.FailurePolicy.Decision;
import model.RetryBudget;
import org.junit.jupiter.api.Test;

/**
 * The failure decision table, with no server: for each kind of failure, method and body, whether the
 * request goes elsewhere, what the client gets otherwise, and whether the backend is blamed.
 */
class FailurePolicyTest {
    private static final boolean REPLAYABLE = true, STREAMED = false;
    private static final Decision FIRST = null;

    /** A policy whose budget allows a retry for every request, with a thousand requests behind it. */
    private final FailurePolicy generous = new FailurePolicy(new RetryBudget(100));

    FailurePolicyTest() {
        for (int i = 0; i < 1_000; i++) {
            generous.requestArrived();
        }
    }

    @Test
    void aFailedConnectSentNothingSoAnyMethodGoesElsewhere() {
        for (String method : List.of("GET", "POST", "PATCH")) {
            for (Failure failure : List.of(Failure.CONNECT_FAILED, Failure.CONNECT_TIMED_OUT)) {
                assertEquals(new Decision(true, 503, failure.reason(), true), generous.decide(failure, method, STREAMED, FIRST),
                        method + " " + failure);
            }
        }
    }

    @Test
    void afterSendOnlyIdempotentMethodsWithAWholeBodyAreRetried() {
        for (Failure failure : List.of(Failure.CLOSED_BEFORE_ANSWER, Failure.MALFORMED_ANSWER)) {
            for (String method : List.of("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE")) {
                assertEquals(new Decision(true, 502, failure.reason(), true), generous.decide(failure, method, REPLAYABLE, FIRST),
                        method + " " + failure);
            }
            for (String method : List.of("POST", "PATCH", "CONNECT")) {
                assertEquals(new Decision(false, 502, failure.reason(), true), generous.decide(failure, method, REPLAYABLE, FIRST),
                        "a " + method + " may have taken effect: " + failure);
            }
            assertEquals(new Decision(false, 502, failure.reason(), true), generous.decide(failure, "PUT", STREAMED, FIRST),
                    "a body already streamed is never replayed: " + failure);
        }
    }

    @Test
    void aResponseTimeoutIsAnswered504AndBlamesTheBackend() {
        for (String method : List.of("GET", "POST")) {
            assertEquals(new Decision(false, 504, Failure.RESPONSE_TIMED_OUT.reason(), true),
                    generous.decide(Failure.RESPONSE_TIMED_OUT, method, REPLAYABLE, FIRST));
        }
    }

    @Test
    void aClientFaultIsAnsweredAndBlamesNoBackend() {
        Decision decision = generous.decide(Failure.CLIENT_FAULT, "GET", REPLAYABLE, FIRST);
        assertEquals(false, decision.retry());
        assertEquals(false, decision.blamesBackend());
        assertEquals(400, decision.status());
    }

    @Test
    void aBackendThatFailedAfterReceivingTheRequestOutranksALaterRefusedConnect() {
        Decision reset = generous.decide(Failure.CLOSED_BEFORE_ANSWER, "GET", REPLAYABLE, FIRST).because("reset the connection without answering");
        Decision refused = generous.decide(Failure.CONNECT_FAILED, "GET", REPLAYABLE, reset);
        assertEquals(new Decision(true, 502, "reset the connection without answering", true), refused);
    }

    @Test
    void aFullConnectionPoolGoesElsewhereAndBlamesNoBackend() {
        Decision full = generous.decide(Failure.POOL_EXHAUSTED, "POST", false, FIRST);
        assertEquals(new Decision(true, 503, "had no free connection: too many requests were waiting for one", false), full,
                "nothing was sent, so even a POST may go elsewhere; the proxy's own limit is nobody's failure");
    }

    @Test
    void noBudgetMeansNoRetryWhateverTheFailure() {
        FailurePolicy none = new FailurePolicy(new RetryBudget(0));
        for (Failure failure : Failure.values()) {
            assertEquals(false, none.decide(failure, "GET", REPLAYABLE, FIRST).retry(), failure.toString());
        }
    }

    @Test
    void retriesStopWhenTheBudgetIsSpent() {
        // 10 % of 20 requests is 2, under the floor of 10 retries a quiet proxy always has.
        FailurePolicy tight = new FailurePolicy(new RetryBudget(10));
        for (int i = 0; i < 20; i++) {
            tight.requestArrived();
        }
        List<Boolean> retried = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            retried.add(tight.decide(Failure.CONNECT_FAILED, "GET", REPLAYABLE, FIRST).retry());
        }
        assertEquals(10, retried.stream().filter(yes -> yes).count(), retried.toString());
        assertEquals(List.of(false, false), retried.subList(10, 12), "once spent, every failure is answered");
    }

    @Test
    void aDecisionThatIsNotARetryDoesNotSpendTheBudget() {
        FailurePolicy tight = new FailurePolicy(new RetryBudget(10));
        for (int i = 0; i < 50; i++) {
            tight.decide(Failure.CLOSED_BEFORE_ANSWER, "POST", REPLAYABLE, FIRST);
            tight.decide(Failure.RESPONSE_TIMED_OUT, "GET", REPLAYABLE, FIRST);
        }
        assertEquals(true, tight.decide(Failure.CONNECT_FAILED, "GET", REPLAYABLE, FIRST).retry());
    }
}
