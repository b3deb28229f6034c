// Every other file of this folder: scripts list this one and JBang follows //SOURCES into it.
//SOURCES Attempts.java ClientFault.java ErrorResponses.java FailureHook.java ProxiedRequest.java ProxyAnswer.java Router.java

package proxy.exchange;

import proxy.observe.CompletedRequest;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.SSLSessionInfo;
import io.undertow.server.ResponseCommitListener;
import io.undertow.server.handlers.HttpContinueAcceptingHandler;
import io.undertow.util.Headers;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLSession;
import proxy.observe.TrafficObserver;
import proxy.request.AbsoluteFormTarget;
import proxy.request.DroppedRequestHeaders;
import proxy.request.ForwardedHeaders;
import proxy.request.HopByHopHeaders;
import proxy.request.RequestBodyWatch;
import proxy.request.RequestFramingGuard;
import proxy.upstream.ResponseTimeout;

/**
 * What the load balancer does to every request before Undertow's ProxyHandler forwards it, and to
 * every response before it goes back: refuse framing it cannot trust ({@link RequestFramingGuard},
 * {@link AbsoluteFormTarget}), watch the body ({@link RequestBodyWatch}), enforce the body limit, drop
 * hop-by-hop headers both ways, keep or replace the client's forwarding headers as
 * {@link ForwardedHeaders} decides (untrusted clients' X-Forwarded-* never reach a backend), and give
 * proxy-made errors a short body. Thread-safe, runs on the IO thread.
 */
public final class GatewayHandler implements HttpHandler {
    private static final ResponseCommitListener STRIP_RESPONSE_HOP_BY_HOP =
            exchange -> HopByHopHeaders.stripResponse(exchange.getResponseHeaders(), exchange.getStatusCode());

    private final HttpHandler proxy;
    private final HttpHandler continueThenForward = new HttpContinueAcceptingHandler(this::forward);
    private final long maxBodyBytes;
    private final int maxHeaderBytes;
    private final long responseTimeoutMillis;
    private final long bodyTimeoutMillis;
    private final List<TrafficObserver> observers = new CopyOnWriteArrayList<>();
    private volatile ForwardedHeaders forwarded = ForwardedHeaders.REPLACE_ALL;
    private volatile boolean allowUnderscoresInHeaders;

    public GatewayHandler(HttpHandler proxy, long maxBodyBytes, int maxHeaderBytes, long responseTimeoutMillis, long bodyTimeoutMillis) {
        this.proxy = proxy;
        this.maxBodyBytes = maxBodyBytes;
        this.maxHeaderBytes = maxHeaderBytes;
        this.responseTimeoutMillis = responseTimeoutMillis;
        this.bodyTimeoutMillis = bodyTimeoutMillis;
    }

    public void addObserver(TrafficObserver observer) {
        observers.add(observer);
    }

    /** Tells the observers about a request answered before it reached this handler (a parser refusal). */
    public void answeredWithoutExchange(CompletedRequest request) {
        for (TrafficObserver observer : observers) {
            observer.completed(request);
        }
    }

    public void setForwardedHeaders(ForwardedHeaders forwarded) {
        this.forwarded = forwarded;
    }

    public void setAllowUnderscoresInHeaders(boolean allow) {
        this.allowUnderscoresInHeaders = allow;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        ProxiedRequest request = ProxiedRequest.start(exchange, observers);
        exchange.addDefaultResponseListener(ErrorResponses.INSTANCE);
        // Framing first: a request whose body cannot be framed without doubt reaches no backend.
        ClientFault fault = RequestFramingGuard.check(exchange, maxHeaderBytes);
        if (fault == null) {
            fault = AbsoluteFormTarget.toOriginForm(exchange);
        }
        if (fault != null) {
            request.clientFault(exchange, fault);
            exchange.setStatusCode(fault.status());
            exchange.endExchange();
            return;
        }
        if (exchange.getRequestContentLength() > maxBodyBytes) {
            exchange.setPersistent(false); // the unread body would otherwise be parsed as the next request
            exchange.setStatusCode(413);
            exchange.endExchange();
            return;
        }
        // A chunked body has no length up front: Undertow fails the read once it passes the limit.
        exchange.setMaxEntitySize(maxBodyBytes);
        if (!exchange.isRequestComplete()) {
            RequestBodyWatch.watch(exchange, bodyTimeoutMillis);
        }

        // Undertow only notices "Connection: close" alone; a client may list it among other options.
        if (HopByHopHeaders.connectionLists(exchange.getRequestHeaders(), Headers.CLOSE.toString())) {
            exchange.setPersistent(false);
        }
        HopByHopHeaders.stripRequest(exchange.getRequestHeaders());
        DroppedRequestHeaders.strip(exchange.getRequestHeaders(), allowUnderscoresInHeaders);
        forwarded.apply(exchange);
        exchange.addResponseCommitListener(STRIP_RESPONSE_HOP_BY_HOP);
        ResponseTimeout.arm(exchange, responseTimeoutMillis);
        // A client that sent "Expect: 100-continue" waits for our go-ahead before sending its body. Like
        // nginx, we give it as soon as the request passed the checks above, and do not forward the
        // expectation: a backend that never says 100 would otherwise leave the client waiting.
        continueThenForward.handleRequest(exchange);
    }

    private void forward(HttpServerExchange exchange) throws Exception {
        exchange.getRequestHeaders().remove(Headers.EXPECT);
        proxy.handleRequest(exchange);
    }

    /** The TLS version the client's connection negotiated (TLSv1.3, TLSv1.2), or null over plain HTTP; HTTP/2 streams name their connection's. */
    static String tlsProtocolOf(HttpServerExchange exchange) {
        SSLSessionInfo tls = exchange.getConnection().getSslSessionInfo();
        SSLSession session = tls == null ? null : tls.getSSLSession();
        return session == null ? null : session.getProtocol();
    }
}
