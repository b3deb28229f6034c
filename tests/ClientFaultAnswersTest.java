package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Map;
import org.junit.jupiter.api.Test;
import proxy.exchange.ClientFault;

/**
 * What a client is answered when it broke its own request: one row per {@link ClientFault}, with the status
 * and the plain-text body users see today, so a change to either (or a new fault without a row) fails here.
 * The end-to-end tests (RequestFramingConformanceTest, ClientCausedFailuresTest) check that each is sent.
 */
class ClientFaultAnswersTest {
    private record Answer(int status, String body) {}

    private static final Map<ClientFault, Answer> TABLE = Map.of(
            ClientFault.BAD_FRAMING, new Answer(400,
                    "400 Bad Request: the request's framing headers (Content-Length, Transfer-Encoding) are malformed or conflict\n"),
            ClientFault.BAD_TARGET, new Answer(400,
                    "400 Bad Request: the request target is not a valid origin-form or http(s) absolute-form URI\n"),
            ClientFault.UNKNOWN_CODING, new Answer(501, "501 Not Implemented: the only transfer coding accepted is a single \"chunked\"\n"),
            ClientFault.MALFORMED_CHUNK, new Answer(400, "400 Bad Request: the chunked request body is malformed\n"),
            ClientFault.BODY_TOO_LARGE, new Answer(413, "413 Content Too Large: the request body is over the proxy's limit (--max-body-size)\n"),
            ClientFault.BODY_TIMEOUT, new Answer(408, "408 Request Timeout: the request body stopped arriving (--body-timeout)\n"),
            ClientFault.MALFORMED_HTTP2, new Answer(400, "400 Bad Request: the HTTP/2 request is malformed (RFC 9113 section 8.2)\n"),
            ClientFault.ABORTED, new Answer(400, "400 Bad Request: the client closed the connection before its request body was complete\n"));

    @Test
    void everyFaultHasItsRowAndIsAnsweredWithIt() {
        assertEquals(EnumSet.allOf(ClientFault.class), EnumSet.copyOf(TABLE.keySet()), "every client fault has a row here");
        for (ClientFault fault : ClientFault.values()) {
            assertEquals(TABLE.get(fault), new Answer(fault.status(), fault.body()), fault.name());
        }
    }

    @Test
    void everyAnswerIsAClientErrorOr501WithAShortBodyThatStartsWithItsStatus() {
        for (ClientFault fault : ClientFault.values()) {
            int status = fault.status();
            assertTrue(status >= 400 && status < 500 || status == 501, fault + ": " + status);
            assertTrue(fault.body().startsWith(status + " "), fault + ": " + fault.body());
            assertTrue(fault.body().endsWith("\n") && fault.body().indexOf('\n') == fault.body().length() - 1, fault + ": one line");
            assertTrue(fault.body().length() <= 120, fault + ": short: " + fault.body().length());
        }
        assertEquals(ClientFault.values().length, Arrays.stream(ClientFault.values()).map(ClientFault::body).distinct().count(),
                "each fault says what it is");
    }
}
