package tests;

import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLSocket;
import tls.ServerTls;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend written on a bare ServerSocket, so a test controls every byte and every misbehaviour a
 * real HTTP server would never show: resetting before answering, hop-by-hop headers in its answer.
 * Records the request heads it received, on which connection each came, and which connections the
 * proxy closed. One thread per connection; {@link #close()} stops it all.
 */
final class RawBackend implements AutoCloseable {
    /** What the backend does with each request, given the connection and the request head it read. */
    interface Behaviour {
        void answer(Socket connection, String requestHead) throws IOException;
    }

    /** The TCP socket under each TLS connection being served, for {@link #RESET}. */
    private static final Map<Socket, Socket> UNDER_TLS = new ConcurrentHashMap<>();

    /**
     * Reads the request, then resets the connection without a byte of answer (TCP RST). Over TLS the TCP socket
     * underneath is reset, with no close_notify first, as a crashed server's would be: SSLSocket.close() sends one.
     */
    static final Behaviour RESET = (connection, head) -> {
        Socket tcp = UNDER_TLS.getOrDefault(connection, connection);
        tcp.setSoLinger(true, 0);
        tcp.close();
        if (tcp != connection) {
            try {
                connection.close();
            } catch (IOException e) {
                // the socket under it is gone already: nothing more to send
            }
        }
    };

    /** Reads the request, then closes the connection cleanly (FIN) without answering. */
    static final Behaviour CLOSE = (connection, head) -> connection.close();

    /** Answers every request on the connection with these exact bytes. */
    static Behaviour answer(String rawResponse) {
        return (connection, head) -> TestSupport.write(connection.getOutputStream(), rawResponse);
    }

    private final ServerSocket server;
    private final Behaviour behaviour;
    private final List<String> requestHeads = new CopyOnWriteArrayList<>();
    private final List<Integer> requestConnections = new CopyOnWriteArrayList<>();
    private final AtomicInteger closedByProxy = new AtomicInteger();
    private final List<Socket> connections = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    private final ServerTls tls;
    private final List<String> serverNames = new CopyOnWriteArrayList<>();

    RawBackend(Behaviour behaviour) throws IOException {
        this(behaviour, null);
    }

    /** A backend that speaks TLS with {@code tls}'s certificates when it is not null: an https://localhost backend. */
    RawBackend(Behaviour behaviour, ServerTls tls) throws IOException {
        this.behaviour = behaviour;
        this.tls = tls;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress()); // TLS is layered on each accepted socket
        this.acceptor = new Thread(this::acceptLoop, "raw-backend-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    String url() {
        return tls == null ? "http://127.0.0.1:" + server.getLocalPort() : "https://localhost:" + server.getLocalPort();
    }

    /** Over TLS: the host name (SNI) each connection's handshake asked for, "" for none, in handshake order. */
    List<String> serverNames() {
        return serverNames;
    }

    /** Request heads received so far, in arrival order. */
    List<String> requestHeads() {
        return requestHeads;
    }

    /** For each request head in {@link #requestHeads()}, the connection it came on: 0 for the first accepted. */
    List<Integer> requestConnections() {
        return requestConnections;
    }

    /** Connections accepted so far. */
    int acceptedConnections() {
        return connections.size();
    }

    /** Connections the proxy closed or reset (not those this backend closed itself, nor idle timeouts). */
    int connectionsClosedByProxy() {
        return closedByProxy.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket tcp = server.accept();
                Socket connection = tcp;
                if (tls != null) {
                    SSLSocket ssl = (SSLSocket) tls.context().getSocketFactory().createSocket(tcp, null, true);
                    ssl.setUseClientMode(false);
                    UNDER_TLS.put(ssl, tcp);
                    connection = ssl;
                }
                connections.add(connection);
                int number = connections.size() - 1;
                Socket served = connection;
                Thread worker = new Thread(() -> serve(served, number), acceptor.getName() + "-conn");
                worker.setDaemon(true);
                worker.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket connection, int number) {
        try (connection) {
            serveRequests(connection, number);
        } catch (IOException e) {
            // closing failed: nothing left to do with this connection
        } finally {
            UNDER_TLS.remove(connection);
        }
    }

    private void serveRequests(Socket connection, int number) throws IOException {
        try {
            connection.setSoTimeout(10_000);
            if (connection instanceof SSLSocket ssl) {
                ssl.startHandshake(); // a failed one throws: the proxy refused our certificate, and sends nothing
                serverNames.add(((ExtendedSSLSession) ssl.getSession()).getRequestedServerNames().stream()
                        .map(name -> ((SNIHostName) name).getAsciiName()).findFirst().orElse(""));
            }
            while (!connection.isClosed()) {
                String head = TestSupport.readHead(connection.getInputStream());
                if (head.isEmpty()) {
                    closedByProxy.incrementAndGet();
                    return;
                }
                requestConnections.add(number);
                requestHeads.add(head);
                behaviour.answer(connection, head);
            }
        } catch (SocketTimeoutException e) {
            // the proxy kept the connection idle past the read timeout: this connection is done
        } catch (IOException e) {
            // Reset or closed by the proxy while we read or wrote. A TLS socket closes itself on such a failure, so
            // there only a behaviour's own close (which ends the loop before any read) tells the two apart.
            if (!connection.isClosed() || connection instanceof SSLSocket) {
                closedByProxy.incrementAndGet();
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket connection : connections) {
            connection.close();
        }
    }
}
