package proxy.upstream;

import io.undertow.client.ClientCallback;
import io.undertow.client.ClientConnection;
import io.undertow.client.ClientExchange;
import io.undertow.client.ClientRequest;
import io.undertow.client.ClientStatistics;
import io.undertow.connector.ByteBufferPool;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import java.io.IOException;
import java.net.SocketAddress;
import org.xnio.ChannelListener;
import org.xnio.Option;
import org.xnio.StreamConnection;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;

/**
 * The last word on a request's head before Undertow writes it to the backend: a backend connection as
 * ProxyHandler sees it, passing everything through to Undertow's own, except that the request is finished first.
 * ProxyHandler appends the client to {@code X-Forwarded-For} after every handler of ours ran, joined with a bare
 * comma ({@code 203.0.113.9,127.0.0.1}); nginx's {@code $proxy_add_x_forwarded_for} and every other proxy join
 * with {@code ", "}, which is what backends' parsers see most. Only a request that arrives with an X-Forwarded-For
 * its client may keep is sent through it: ProxyHandler joins nothing otherwise. Confined to the request's IO thread.
 */
final class BackendRequestHead implements ClientConnection {
    private final ClientConnection connection;

    BackendRequestHead(ClientConnection connection) {
        this.connection = connection;
    }

    @Override
    public void sendRequest(ClientRequest request, ClientCallback<ClientExchange> callback) {
        HeaderMap headers = request.getRequestHeaders();
        String forwardedFor = headers.getFirst(Headers.X_FORWARDED_FOR);
        if (forwardedFor != null && forwardedFor.indexOf(',') >= 0) {
            headers.put(Headers.X_FORWARDED_FOR, commaSpaced(forwardedFor));
        }
        connection.sendRequest(request, callback);
    }

    /** "a,b , c" as "a, b, c". */
    static String commaSpaced(String list) {
        StringBuilder joined = new StringBuilder(list.length() + 8);
        for (String part : list.split(",")) {
            String hop = part.trim();
            if (!hop.isEmpty()) {
                joined.append(joined.length() == 0 ? "" : ", ").append(hop);
            }
        }
        return joined.toString();
    }

    @Override
    public StreamConnection performUpgrade() throws IOException {
        return connection.performUpgrade();
    }

    @Override
    public ByteBufferPool getBufferPool() {
        return connection.getBufferPool();
    }

    @Override
    public SocketAddress getPeerAddress() {
        return connection.getPeerAddress();
    }

    @Override
    public <A extends SocketAddress> A getPeerAddress(Class<A> type) {
        return connection.getPeerAddress(type);
    }

    @Override
    public ChannelListener.Setter<? extends ClientConnection> getCloseSetter() {
        return connection.getCloseSetter();
    }

    @Override
    public SocketAddress getLocalAddress() {
        return connection.getLocalAddress();
    }

    @Override
    public <A extends SocketAddress> A getLocalAddress(Class<A> type) {
        return connection.getLocalAddress(type);
    }

    @Override
    public XnioWorker getWorker() {
        return connection.getWorker();
    }

    @Override
    public XnioIoThread getIoThread() {
        return connection.getIoThread();
    }

    @Override
    public boolean isOpen() {
        return connection.isOpen();
    }

    @Override
    public void close() throws IOException {
        connection.close();
    }

    @Override
    public boolean supportsOption(Option<?> option) {
        return connection.supportsOption(option);
    }

    @Override
    public <T> T getOption(Option<T> option) throws IOException {
        return connection.getOption(option);
    }

    @Override
    public <T> T setOption(Option<T> option, T value) throws IOException {
        return connection.setOption(option, value);
    }

    @Override
    public boolean isUpgraded() {
        return connection.isUpgraded();
    }

    @Override
    public boolean isPushSupported() {
        return connection.isPushSupported();
    }

    @Override
    public boolean isMultiplexingSupported() {
        return connection.isMultiplexingSupported();
    }

    @Override
    public ClientStatistics getStatistics() {
        return connection.getStatistics();
    }

    @Override
    public boolean isUpgradeSupported() {
        return connection.isUpgradeSupported();
    }

    @Override
    public void addCloseListener(ChannelListener<ClientConnection> listener) {
        connection.addCloseListener(listener);
    }

    @Override
    public boolean isPingSupported() {
        return connection.isPingSupported();
    }

    @Override
    public void sendPing(PingListener listener, long timeout, java.util.concurrent.TimeUnit unit) {
        connection.sendPing(listener, timeout, unit);
    }
}
