package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import demo.DemoServer;
import java.io.InputStream;
import java.io.OutputStream;
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
 * registered for reading (proxy/LazyReadSuspension.java, which saves two epoll_ctl calls a request),
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

    @Test
    void aRequestPipelinedWhileTheFirstIsAtTheBackendIsAnsweredAfterIt() throws Exception {
        DemoServer slow = support.demo("slow", new DemoServer.Faults(BACKEND_DELAY, 0));
        ProxyServer proxy = support.proxy(slow.url());
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            client.setSoTimeout(10_000);
            OutputStream out = client.getOutputStream();
            InputStream in = client.getInputStream();
            answeredOnce(out, in);
            long before = slow.requestCount();
            TestSupport.write(out, "GET /first HTTP/1.1\r\nHost: lb.test\r\n\r\n");
            TestSupport.await(() -> slow.requestCount() > before, "the first request to reach the backend");
            TestSupport.write(out, "GET /second HTTP/1.1\r\nHost: lb.test\r\n\r\n");

            String first = TestSupport.readOneResponse(in);
            String second = TestSupport.readOneResponse(in);
            assertTrue(first.startsWith("HTTP/1.1 200 "), first);
            assertTrue(first.contains("\"path\":\"/first\""), first);
            assertTrue(second.startsWith("HTTP/1.1 200 "), second);
            assertTrue(second.contains("\"path\":\"/second\""), second);
        }
    }

    @Test
    void aClientThatClosesItsSideWhileWaitingGetsItsAnswerAndNoThreadSpins() throws Exception {
        DemoServer slow = support.demo("slow", new DemoServer.Faults(BACKEND_DELAY, 0));
        ProxyServer proxy = support.proxy(slow.url());
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            client.setSoTimeout(10_000);
            answeredOnce(client.getOutputStream(), client.getInputStream());
            long before = slow.requestCount();
            TestSupport.write(client.getOutputStream(), "GET /half-closed HTTP/1.1\r\nHost: lb.test\r\n\r\n");
            TestSupport.await(() -> slow.requestCount() > before, "the request to reach the backend");
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

    /** One request and its answer, so the connection's socket is registered for reading from now on. */
    private static void answeredOnce(OutputStream out, InputStream in) throws Exception {
        TestSupport.write(out, "GET /warm-up HTTP/1.1\r\nHost: lb.test\r\n\r\n");
        String answer = TestSupport.readOneResponse(in);
        assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);
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
