///usr/bin/env jbang "$0" "$@" ; exit $?
//DESCRIPTION Yardsticks for our proxy's cost: Undertow's server answering by itself, Undertow's own proxy, and forwarding with no checks on Undertow's server.
//JAVA 17+
// Sources are UTF-8 whatever the locale: Java 17's javac reads them in the platform charset, US-ASCII under LANG=C.
//JAVAC_OPTIONS -encoding UTF-8
//DEPS io.undertow:undertow-core:2.4.4.Final
// The load balancer's own JVM options, so that the two are compared on the same heap, GC and inlining.
//RUNTIME_OPTIONS -XX:+UseSerialGC -Xmx64m -Xmn8m -Xss256k -XX:FreqInlineSize=200 -XX:InlineSmallCode=1500

import io.undertow.Undertow;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.ResponseCodeHandler;
import io.undertow.server.handlers.proxy.LoadBalancingProxyClient;
import io.undertow.server.handlers.proxy.ProxyHandler;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.SameThreadExecutor;
import org.xnio.IoFuture;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Measuring sticks for the load balancer's CPU per request, each on Undertow's HTTP server with one IO
 * thread per core, like the load balancer. {@code benchmarks/load/run.sh --floor} sets them beside nginx
 * answering and proxying the same way:
 *
 * <pre>
 * ./jbang benchmarks/load/UndertowFloor.java PORT                            # answers "ok" itself: the server's floor
 * ./jbang benchmarks/load/UndertowFloor.java PORT --undertow-proxy B1 B2     # Undertow's ProxyHandler, round robin, nothing of ours
 * ./jbang benchmarks/load/UndertowFloor.java PORT --bare-forward B1 B2       # forwarding with no checks at all
 * </pre>
 *
 * B1 and B2 are ports of backends on 127.0.0.1. {@code --bare-forward} is not a proxy: it forwards a
 * bodiless request's head and copies back a response whose whole Content-Length body arrives with its
 * head, and answers 502 to anything else. It checks nothing (no framing guard, no 1xx, no timeouts, no
 * retries, no health, no statistics): its cost is that of the work no forwarding path can skip, done
 * plainly, and the gap between it and the load balancer is what our checks and bookkeeping cost.
 */
public class UndertowFloor {

    public static void main(String[] args) throws Exception {
        HttpHandler handler;
        if (args.length == 1 && isPort(args[0])) {
            handler = exchange -> {
                exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain");
                exchange.getResponseSender().send("ok\n");
            };
        } else if (args.length == 4 && isPort(args[0]) && isPort(args[2]) && isPort(args[3])
                && (args[1].equals("--undertow-proxy") || args[1].equals("--bare-forward"))) {
            List<InetSocketAddress> backends = List.of(
                    new InetSocketAddress("127.0.0.1", Integer.parseInt(args[2])),
                    new InetSocketAddress("127.0.0.1", Integer.parseInt(args[3])));
            handler = args[1].equals("--undertow-proxy") ? undertowProxy(backends) : new BareForward(backends);
        } else {
            System.err.println("usage: UndertowFloor.java PORT [--undertow-proxy | --bare-forward] [BACKEND_PORT BACKEND_PORT]"
                    + "   (listens on 127.0.0.1:PORT; backends on 127.0.0.1)");
            System.exit(2);
            return;
        }
        Undertow.builder()
                .setIoThreads(Runtime.getRuntime().availableProcessors())
                .addHttpListener(Integer.parseInt(args[0]), "127.0.0.1")
                .setHandler(handler)
                .build()
                .start();
        System.out.println("UndertowFloor listening on http://127.0.0.1:" + args[0] + "/");
    }

    private static boolean isPort(String text) {
        return text.matches("\\d{1,5}") && Integer.parseInt(text) <= 65535;
    }

    /** Undertow's reverse proxy as its documentation builds it: what the load balancer started from. */
    private static HttpHandler undertowProxy(List<InetSocketAddress> backends) throws Exception {
        LoadBalancingProxyClient client = new LoadBalancingProxyClient().setConnectionsPerThread(64);
        for (InetSocketAddress backend : backends) {
            client.addHost(new URI("http://127.0.0.1:" + backend.getPort()));
        }
        return ProxyHandler.builder().setProxyClient(client).setNext(ResponseCodeHandler.HANDLE_404).build();
    }

    /**
     * Forwards on the client connection's IO thread over keep-alive backend connections kept per thread,
     * with one write for the request head and one read for the response in the common case: the work a
     * forwarding path cannot skip, and nothing more.
     */
    static final class BareForward implements HttpHandler {
        private static final int BUFFER = 16 * 1024;
        private final List<InetSocketAddress> backends;
        private final ThreadLocal<PerThread> perThread;

        BareForward(List<InetSocketAddress> backends) {
            this.backends = backends;
            this.perThread = ThreadLocal.withInitial(() -> new PerThread(backends.size()));
        }

        /** Everything an IO thread keeps: its idle backend connections, a head buffer, its round-robin turn. */
        private static final class PerThread {
            final List<ArrayDeque<BackendConnection>> idle = new ArrayList<>();
            final ByteBuffer head = ByteBuffer.allocateDirect(BUFFER);
            int turn;

            PerThread(int backends) {
                for (int i = 0; i < backends; i++) {
                    idle.add(new ArrayDeque<>());
                }
            }
        }

        private static final class BackendConnection {
            final StreamConnection connection;
            final int backend;
            final ByteBuffer response = ByteBuffer.allocateDirect(BUFFER);
            HttpServerExchange waiting;

            BackendConnection(StreamConnection connection, int backend) {
                this.connection = connection;
                this.backend = backend;
            }
        }

        @Override
        public void handleRequest(HttpServerExchange exchange) {
            if (exchange.getRequestContentLength() > 0 || exchange.getRequestHeaders().contains(Headers.TRANSFER_ENCODING)) {
                answer(exchange, 501, "--bare-forward measures requests without a body only\n");
                return;
            }
            PerThread thread = perThread.get();
            int backend = Math.floorMod(thread.turn++, backends.size());
            BackendConnection pooled = thread.idle.get(backend).pollFirst();
            // Keeps the exchange open after this method returns, on the same IO thread (as ProxyHandler does).
            exchange.dispatch(SameThreadExecutor.INSTANCE, () -> {
                if (pooled != null) {
                    forward(pooled, exchange);
                    return;
                }
                exchange.getIoThread().openStreamConnection(backends.get(backend), null, OptionMap.create(Options.TCP_NODELAY, true))
                        .addNotifier(new IoFuture.HandlingNotifier<StreamConnection, Void>() {
                            @Override
                            public void handleDone(StreamConnection connection, Void unused) {
                                forward(new BackendConnection(connection, backend), exchange);
                            }

                            @Override
                            public void handleFailed(IOException failure, Void unused) {
                                answer(exchange, 502, "backend unreachable\n");
                            }
                        }, null);
            });
        }

        private void forward(BackendConnection backend, HttpServerExchange exchange) {
            ByteBuffer head = perThread.get().head;
            head.clear();
            ascii(head, exchange.getRequestMethod().toString()).put((byte) ' ');
            ascii(head, exchange.getRequestURI());
            if (!exchange.getQueryString().isEmpty()) {
                ascii(head.put((byte) '?'), exchange.getQueryString());
            }
            ascii(head, " HTTP/1.1\r\n");
            for (HeaderValues values : exchange.getRequestHeaders()) {
                HttpString name = values.getHeaderName();
                if (name.equals(Headers.CONNECTION) || name.equals(Headers.KEEP_ALIVE)) {
                    continue;
                }
                for (String value : values) {
                    name.appendTo(head);
                    ascii(head, ": ");
                    ascii(head, value);
                    ascii(head, "\r\n");
                }
            }
            ascii(head, "\r\n").flip();
            backend.waiting = exchange;
            try {
                // A head this small fits a loopback socket's send buffer whole; if it ever does not, say so.
                if (backend.connection.getSinkChannel().write(head) == 0 || head.hasRemaining()) {
                    throw new IOException("the request head did not fit the socket's send buffer");
                }
            } catch (IOException e) {
                fail(backend, "cannot write to the backend\n");
                return;
            }
            backend.connection.getSourceChannel().setReadListener(channel -> readResponse(backend));
            backend.connection.getSourceChannel().resumeReads();
        }

        private void readResponse(BackendConnection backend) {
            ByteBuffer in = backend.response;
            int read;
            try {
                read = backend.connection.getSourceChannel().read(in);
            } catch (IOException e) {
                read = -1;
            }
            if (read == -1) {
                fail(backend, "the backend closed the connection\n");
                return;
            }
            if (read == 0 || backend.waiting == null) {
                return;
            }
            int headEnd = headEnd(in);
            if (headEnd < 0) {
                if (!in.hasRemaining()) {
                    fail(backend, "response head larger than " + BUFFER + " bytes\n");
                }
                return;
            }
            HttpServerExchange exchange = backend.waiting;
            HeaderMap headers = exchange.getResponseHeaders();
            long contentLength = -1;
            int line = lineEnd(in, 0) + 2;
            while (line < headEnd - 2) {
                int colon = line;
                while (colon < headEnd && in.get(colon) != ':') {
                    colon++;
                }
                if (colon == headEnd) {
                    fail(backend, "a response header line without a colon\n");
                    return;
                }
                int end = lineEnd(in, colon);
                int value = colon + 1;
                while (in.get(value) == ' ') {
                    value++;
                }
                HttpString name = new HttpString(bytes(in, line, colon));
                String text = new String(bytes(in, value, end), StandardCharsets.ISO_8859_1);
                if (name.equals(Headers.CONTENT_LENGTH)) {
                    if (!text.matches("\\d{1,9}")) {
                        fail(backend, "a Content-Length that is not a small number\n");
                        return;
                    }
                    contentLength = Long.parseLong(text);
                } else if (name.equals(Headers.TRANSFER_ENCODING)) {
                    fail(backend, "--bare-forward copies Content-Length bodies only\n");
                    return;
                } else if (!name.equals(Headers.CONNECTION) && !name.equals(Headers.KEEP_ALIVE)) {
                    headers.add(name, text);
                }
                line = end + 2;
            }
            if (contentLength < 0 || headEnd + contentLength > BUFFER) {
                fail(backend, "--bare-forward copies Content-Length bodies of up to " + (BUFFER / 1024) + " KiB, head included\n");
                return;
            }
            if (in.position() < headEnd + contentLength) {
                return; // the rest of the body is on its way
            }
            int status = status(in);
            if (status < 200) {
                fail(backend, "--bare-forward copies final answers with a well-formed status line only\n");
                return;
            }
            ByteBuffer body = ByteBuffer.wrap(bytes(in, headEnd, (int) (headEnd + contentLength)));
            in.clear();
            backend.waiting = null;
            backend.connection.getSourceChannel().suspendReads();
            perThread.get().idle.get(backend.backend).addFirst(backend);
            exchange.setStatusCode(status);
            exchange.setResponseContentLength(contentLength);
            exchange.getResponseSender().send(body);
        }

        private static void fail(BackendConnection backend, String why) {
            IoUtils.safeClose(backend.connection);
            HttpServerExchange exchange = backend.waiting;
            backend.waiting = null;
            if (exchange != null) {
                answer(exchange, 502, why);
            }
        }

        private static void answer(HttpServerExchange exchange, int status, String body) {
            exchange.getResponseHeaders().clear();
            exchange.setStatusCode(status);
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain");
            exchange.getResponseSender().send(body);
        }

        /** The status code of an "HTTP/1.x NNN" line, or -1. */
        private static int status(ByteBuffer in) {
            int status = 0;
            for (int i = 9; i < 12; i++) {
                byte digit = in.get(i);
                if (digit < '0' || digit > '9') {
                    return -1;
                }
                status = status * 10 + (digit - '0');
            }
            return in.get(0) == 'H' && in.get(8) == ' ' && in.get(12) == ' ' ? status : -1;
        }

        /** The index just past the blank line that ends a response head, or -1 while it has not arrived. */
        private static int headEnd(ByteBuffer in) {
            for (int i = 3; i < in.position(); i++) {
                if (in.get(i) == '\n' && in.get(i - 1) == '\r' && in.get(i - 2) == '\n' && in.get(i - 3) == '\r') {
                    return i + 1;
                }
            }
            return -1;
        }

        private static int lineEnd(ByteBuffer in, int from) {
            int i = from;
            while (in.get(i) != '\r') {
                i++;
            }
            return i;
        }

        private static byte[] bytes(ByteBuffer in, int from, int to) {
            byte[] copy = new byte[to - from];
            in.get(from, copy);
            return copy;
        }

        private static ByteBuffer ascii(ByteBuffer out, String text) {
            for (int i = 0; i < text.length(); i++) {
                out.put((byte) text.charAt(i));
            }
            return out;
        }
    }
}
