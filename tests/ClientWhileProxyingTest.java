package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import demo.DemoServer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import proxy.ProxyServer;

/**
 * What a client connection does while its request is at the backend. The proxy keeps such a socket
 * registered for reading (proxy/listen/LazyReadSuspension.java, which saves two epoll_ctl calls a request),
 * so these pin down that whatever a client sends meanwhile waits its turn and is never lost, and that a
 * client closing its side meanwhile neither loses its answer nor sets an IO thread spinning. Each
 * scenario runs on a connection's second request: Undertow reads a new connection's first request
 * before the socket is ever registered for reading, so only later requests take the lazy path.
 */
class ClientWhileProxyingTest {
    private static final Duration BACKEND_DELAY = Duration.ofMillis(700);

    private final TestSupport support = new TestSupport();

    @AfterEach
    void stopEverything() {
        support.close();
    }

    private final DemoServer slow = support.demo("slow", new DemoServer.Faults(BACKEND_DELAY, 0));
    private final ProxyServer proxy = support.proxy(slow.url());

    @Test
    void aRequestPipelinedWhileTheFirstIsAtTheBackendIsAnsweredAfterIt() throws Exception {
        try (Socket client = keptAliveClient()) {
            sendAndAwaitTheBackend(client, "/first");
            TestSupport.write(client.getOutputStream(), "GET /second HTTP/1.1\r\nHost: lb.test\r\n\r\n");

            String first = TestSupport.readOneResponse(client.getInputStream());
            String second = TestSupport.readOneResponse(client.getInputStream());
            assertTrue(first.startsWith("HTTP/1.1 200 "), first);
            assertTrue(first.contains("\"path\":\"/first\""), first);
            assertTrue(second.startsWith("HTTP/1.1 200 "), second);
            assertTrue(second.contains("\"path\":\"/second\""), second);
        }
    }

    @Test
    void aClientThatClosesItsSideWhileWaitingGetsItsAnswerAndNoThreadSpins() throws Exception {
        try (Socket client = keptAliveClient()) {
            sendAndAwaitTheBackend(client, "/half-closed");
            long ioCpuBefore = ioThreadsCpuNanos();
            client.shutdownOutput(); // the proxy's socket turns readable (end of stream) with the request in flight

            String answer = TestSupport.readOneResponse(client.getInputStream());
            long ioCpu = ioThreadsCpuNanos() - ioCpuBefore;
            assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);
            assertTrue(answer.contains("\"path\":\"/half-closed\""), answer);
            // Reacting to a readable socket nobody reads, over and over until the answer came, would
            // take an IO thread's whole core for the backend's delay; handling the request takes a
            // few milliseconds.
            assertTrue(ioCpu < BACKEND_DELAY.toNanos() / 3,
                    "the proxy's IO threads used " + TimeUnit.NANOSECONDS.toMillis(ioCpu) + " ms of CPU while the answer took at most "
                            + BACKEND_DELAY.toMillis() + " ms: a readable socket kept waking them");
            assertEquals(-1, client.getInputStream().read(), "after answering a client that closed its side, the proxy closes too");
        }
    }

    /** A connection to the proxy that had one request answered, so its socket is registered for reading from now on. */
    private Socket keptAliveClient() throws Exception {
        Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
        client.setSoTimeout(10_000);
        TestSupport.write(client.getOutputStream(), "GET /warm-up HTTP/1.1\r\nHost: lb.test\r\n\r\n");
        String answer = TestSupport.readOneResponse(client.getInputStream());
        assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);
        return client;
    }

    /** Sends a GET for {@code path} and returns once the slow backend has it: the proxy is waiting for the answer. */
    private void sendAndAwaitTheBackend(Socket client, String path) throws Exception {
        long before = slow.requestCount();
        TestSupport.write(client.getOutputStream(), "GET " + path + " HTTP/1.1\r\nHost: lb.test\r\n\r\n");
        TestSupport.await(() -> slow.requestCount() > before, "the request for " + path + " to reach the backend");
    }

    /** CPU time of every Undertow/XNIO IO thread in this JVM (the proxies these tests start run in it). */
    private static long ioThreadsCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long total = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && info.getThreadName().contains("I/O")) {
                total += Math.max(0, threads.getThreadCpuTime(info.getThreadId()));
            }
        }
        return total;
    }
}
