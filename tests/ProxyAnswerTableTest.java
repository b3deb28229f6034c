package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Map;
import org.junit.jupiter.api.Test;
import proxy.exchange.ClientFault;
import proxy.exchange.ProxyAnswer;

/**
 * The one table of the proxy's own answers: each row's status and body as users see them today (a change to
 * either, or a row added without its line here, fails), each a short single line that starts with its status,
 * and every client fault answered by a row of it. The end-to-end suites check that each is sent.
 */
class ProxyAnswerTableTest {
    private record Answer(int status, String body) {}

    private static final Map<ProxyAnswer, Answer> TABLE = Map.ofEntries(
            Map.entry(ProxyAnswer.BAD_FRAMING, new Answer(400,
                    "400 Bad Request: the request's framing headers (Content-Length, Transfer-Encoding) are malformed or conflict\n")),
            Map.entry(ProxyAnswer.BAD_TARGET, new Answer(400,
                    "400 Bad Request: the request target is not a valid origin-form or http(s) absolute-form URI\n")),
            Map.entry(ProxyAnswer.UNKNOWN_CODING, new Answer(501, "501 Not Implemented: the only transfer coding accepted is a single \"chunked\"\n")),
            Map.entry(ProxyAnswer.MALFORMED_CHUNK, new Answer(400, "400 Bad Request: the chunked request body is malformed\n")),
            Map.entry(ProxyAnswer.BODY_TOO_LARGE, new Answer(413, "413 Content Too Large: the request body is over the proxy's limit (--max-body-size)\n")),
            Map.entry(ProxyAnswer.BODY_TIMEOUT, new Answer(408, "408 Request Timeout: the request body stopped arriving (--body-timeout)\n")),
            Map.entry(ProxyAnswer.MALFORMED_HTTP2, new Answer(400, "400 Bad Request: the HTTP/2 request is malformed (RFC 9113 section 8.2)\n")),
            Map.entry(ProxyAnswer.CLIENT_ABORTED, new Answer(400,
                    "400 Bad Request: the client closed the connection before its request body was complete\n")),
            Map.entry(ProxyAnswer.UNPARSEABLE, new Answer(400,
                    "400 Bad Request: the request could not be parsed (malformed, or its head is over --max-header-size)\n")),
            Map.entry(ProxyAnswer.NO_ROUTE, new Answer(404, "404 Not Found: no route for this host and path\n")),
            Map.entry(ProxyAnswer.BACKEND_FAILED, new Answer(502, "502 Bad Gateway: the backend %s\n")),
            Map.entry(ProxyAnswer.NO_BACKEND, new Answer(503, "503 Service Unavailable: no backend could take the request\n")),
            Map.entry(ProxyAnswer.BACKEND_TIMEOUT, new Answer(504, "504 Gateway Timeout: the backend did not answer in time (--timeout)\n")));

    @Test
    void everyRowIsAnsweredAsUsersSeeItToday() {
        assertEquals(EnumSet.allOf(ProxyAnswer.class), EnumSet.copyOf(TABLE.keySet()), "every answer has its row here");
        for (ProxyAnswer answer : ProxyAnswer.values()) {
            assertEquals(TABLE.get(answer), new Answer(answer.status(), answer.body()), answer.name());
        }
        assertEquals("502 Bad Gateway: the backend reset the connection without answering\n",
                ProxyAnswer.BACKEND_FAILED.body("reset the connection without answering"));
    }

    @Test
    void everyAnswerIsAnErrorWithAShortLineThatStartsWithItsStatusAndSaysWhatItIs() {
        for (ProxyAnswer answer : ProxyAnswer.values()) {
            int status = answer.status();
            assertTrue(status >= 400 && status < 600, answer + ": " + status);
            assertTrue(answer.body().startsWith(status + " "), answer + ": " + answer.body());
            assertTrue(answer.body().endsWith("\n") && answer.body().indexOf('\n') == answer.body().length() - 1, answer + ": one line");
            assertTrue(answer.body().length() <= 120, answer + ": short: " + answer.body().length());
        }
        assertEquals(ProxyAnswer.values().length, Arrays.stream(ProxyAnswer.values()).map(ProxyAnswer::body).distinct().count(),
                "each answer says what it is");
    }

    @Test
    void everyClientFaultIsAnsweredByARowOfTheTable() {
        for (ClientFault fault : ClientFault.values()) {
            assertTrue(Arrays.stream(ProxyAnswer.values()).anyMatch(row -> row.status() == fault.status() && row.body().equals(fault.body())),
                    fault + " answers with a row of ProxyAnswer");
        }
    }
}
