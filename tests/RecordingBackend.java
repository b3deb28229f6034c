package tests;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A strict raw-socket backend that records every byte it receives, per connection, and what it made
 * of them: each request head, its body (de-chunked with no leniency at all: a size that is not hex, a
 * missing CRLF, a bare LF end the connection as "malformed"), and whether the request was complete.
 * Answers each complete request {@code 200} with the body length. One thread per connection, reads
 * bounded by a 10 s timeout; {@link #close()} stops it all.
 */
final class RecordingBackend implements AutoCloseable {
    /** One request as the backend read it: complete only when its whole body, by its own framing, arrived. */
    record Request(String head, String body, String trailers, boolean complete) {}

    /** One connection: every byte received, and whether the peer (the proxy) closed it. */
    static final class Connection {
        private final ByteArrayOutputStream raw = new ByteArrayOutputStream();
        private volatile boolean closed;

        synchronized String raw() {
            return raw.toString(StandardCharsets.ISO_8859_1);
        }

        boolean isClosed() {
            return closed;
        }
    }

    private final ServerSocket server;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final List<Connection> connections = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    RecordingBackend() throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "recording-backend-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** Every request seen so far, complete or not, in arrival order. */
    List<Request> requests() {
        return requests;
    }

    List<Request> completeRequests() {
        return requests.stream().filter(Request::complete).toList();
    }

    List<Connection> connections() {
        return connections;
    }

    /** Every byte received on every connection, connections in order. */
    String allBytes() {
        StringBuilder all = new StringBuilder();
        for (Connection connection : connections) {
            all.append(connection.raw());
        }
        return all.toString();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                sockets.add(socket);
                Connection connection = new Connection();
                connections.add(connection);
                Thread worker = new Thread(() -> serve(socket, connection), "recording-backend-conn");
                worker.setDaemon(true);
                worker.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket socket, Connection connection) {
        try (socket) {
            socket.setSoTimeout(10_000);
            Reader in = new Reader(socket.getInputStream(), connection);
            while (true) {
                String head = in.head();
                if (head == null) {
                    return; // closed between requests
                }
                Request request = readBody(in, head);
                requests.add(request);
                if (!request.complete()) {
                    return;
                }
                String answer = "got " + request.body().length() + " bytes";
                socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + answer.length()
                        + "\r\n\r\n" + answer).getBytes(StandardCharsets.ISO_8859_1));
                socket.getOutputStream().flush();
            }
        } catch (IOException e) {
            // timed out or reset: this connection is done
        } finally {
            connection.closed = true;
        }
    }

    private static Request readBody(Reader in, String head) throws IOException {
        String transferEncoding = header(head, "transfer-encoding");
        String contentLength = header(head, "content-length");
        StringBuilder body = new StringBuilder();
        if (transferEncoding != null) {
            if (!transferEncoding.equals("chunked") || contentLength != null) {
                return new Request(head, "", "", false);
            }
            StringBuilder trailers = new StringBuilder();
            boolean complete = readChunks(in, body, trailers);
            return new Request(head, body.toString(), trailers.toString(), complete);
        }
        if (contentLength != null) {
            long length = Long.parseLong(contentLength);
            for (long i = 0; i < length; i++) {
                int b = in.read();
                if (b < 0) {
                    return new Request(head, body.toString(), "", false);
                }
                body.append((char) b);
            }
        }
        return new Request(head, body.toString(), "", true);
    }

    /** RFC 9112 section 7.1 to the letter; false on the first deviation or an early end. */
    private static boolean readChunks(Reader in, StringBuilder body, StringBuilder trailers) throws IOException {
        while (true) {
            String sizeLine = in.line();
            if (sizeLine == null) {
                return false;
            }
            String size = sizeLine.contains(";") ? sizeLine.substring(0, sizeLine.indexOf(';')) : sizeLine;
            if (!size.matches("[0-9a-fA-F]{1,15}")) {
                return false;
            }
            long length = Long.parseLong(size, 16);
            if (length == 0) {
                for (String line; (line = in.line()) != null; ) {
                    if (line.isEmpty()) {
                        return true;
                    }
                    trailers.append(line).append("\r\n");
                }
                return false;
            }
            for (long i = 0; i < length; i++) {
                int b = in.read();
                if (b < 0) {
                    return false;
                }
                body.append((char) b);
            }
            if (in.read() != '\r' || in.read() != '\n') {
                return false;
            }
        }
    }

    private static String header(String head, String name) {
        String found = null;
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                if (found != null) {
                    return "<duplicate>";
                }
                found = line.substring(colon + 1).strip();
            }
        }
        return found;
    }

    /** Reads the socket byte by byte, keeping a copy of each byte in the connection's record. */
    private static final class Reader {
        private final InputStream in;
        private final Connection connection;

        Reader(InputStream in, Connection connection) {
            this.in = in;
            this.connection = connection;
        }

        int read() throws IOException {
            int b;
            try {
                b = in.read();
            } catch (SocketTimeoutException e) {
                return -1;
            }
            if (b >= 0) {
                synchronized (connection) {
                    connection.raw.write(b);
                }
            }
            return b;
        }

        /** A line ended by CRLF, without it; null at the end of the stream or on a bare LF. */
        String line() throws IOException {
            StringBuilder line = new StringBuilder();
            for (int b; (b = read()) >= 0; ) {
                if (b == '\n') {
                    return null;
                }
                if (b == '\r') {
                    return read() == '\n' ? line.toString() : null;
                }
                line.append((char) b);
                if (line.length() > 65_536) {
                    return null;
                }
            }
            return null;
        }

        /** A request head up to its blank line, lines joined with CRLF; null when the stream ends first. */
        String head() throws IOException {
            StringBuilder head = new StringBuilder();
            for (String line; (line = line()) != null; ) {
                if (line.isEmpty()) {
                    return head.toString();
                }
                head.append(line).append("\r\n");
            }
            return null;
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
