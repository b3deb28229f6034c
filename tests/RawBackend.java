package tests;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A backend written on a bare ServerSocket, so a test controls every byte and every misbehaviour a
 * real HTTP server would never show: resetting before answering, hop-by-hop headers in its answer.
 * Records the request heads it received. One thread per connection; {@link #close()} stops it all.
 */
final class RawBackend implements AutoCloseable {
    /** What the backend does with each request, given the connection and the request head it read. */
    interface Behaviour {
        void answer(Socket connection, String requestHead) throws IOException;
    }

    /** Reads the request, then resets the connection without a byte of answer (TCP RST). */
    static final Behaviour RESET = (connection, head) -> {
        connection.setSoLinger(true, 0);
        connection.close();
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
    private final List<Socket> connections = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    RawBackend(Behaviour behaviour) throws IOException {
        this.behaviour = behaviour;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::acceptLoop, "raw-backend-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** Request heads received so far, in arrival order. */
    List<String> requestHeads() {
        return requestHeads;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket connection = server.accept();
                connections.add(connection);
                Thread worker = new Thread(() -> serve(connection), acceptor.getName() + "-conn");
                worker.setDaemon(true);
                worker.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket connection) {
        try (connection) {
            connection.setSoTimeout(10_000);
            while (!connection.isClosed()) {
                String head = TestSupport.readHead(connection.getInputStream());
                if (head.isEmpty()) {
                    return;
                }
                requestHeads.add(head);
                behaviour.answer(connection, head);
            }
        } catch (IOException e) {
            // the proxy closed the connection, or the read timed out: this connection is done
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
