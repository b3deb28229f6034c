package proxy.exchange;

import config.GatewayConfig;
import config.RouteConfig;
import config.RouteTable;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.ResponseCommitListener;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.util.Map;
import proxy.request.ExchangeRequestView;
import proxy.upstream.Upstream;

/**
 * Sends each request, once the edge guards passed it, to the upstream of the most specific route that
 * takes it ({@link RouteTable}), after that route's changes to its path and headers; a request no route
 * takes gets 404 with a short plain-text body (nginx answers 404 too when no location matches). The
 * table is swapped whole by a reload; a request reads it once, so it finishes on the config it started
 * with. Thread-safe: one volatile read per request.
 */
public final class Router implements HttpHandler {

    /**
     * One configuration as it runs: the routes to match and, for each in file order, what taking it does.
     *
     * @param order the upstreams' names in the configuration's order
     */
    public record Table(GatewayConfig config, RouteTable routes, Chosen[] chosen, Map<String, Upstream> upstreams, java.util.List<String> order) {}

    /**
     * One route ready to apply: its upstream, and its header changes as Undertow names, built once.
     * Immutable.
     */
    public record Chosen(RouteConfig route, Upstream upstream, HttpString[] removeRequest, HttpString[] setRequestNames, String[] setRequestValues,
                  ResponseCommitListener responseChanges) {
        public static Chosen of(RouteConfig route, Upstream upstream) {
            RouteConfig.HeaderChanges request = route.requestHeaders();
            HttpString[] names = request.set().keySet().stream().map(HttpString::new).toArray(HttpString[]::new);
            String[] values = request.set().values().toArray(String[]::new);
            RouteConfig.HeaderChanges response = route.responseHeaders();
            return new Chosen(route, upstream, request.remove().stream().map(HttpString::new).toArray(HttpString[]::new), names, values,
                    response.isEmpty() ? null : new ResponseHeaderChanges(response));
        }

        void apply(HttpServerExchange exchange) {
            String strip = route.stripPrefix();
            if (strip != null) {
                String uri = exchange.getRequestURI(); // what ProxyHandler sends on, query string apart
                if (uri.startsWith(strip)) {
                    String rest = uri.substring(strip.length());
                    exchange.setRequestURI(rest.startsWith("/") ? rest : "/" + rest);
                }
            }
            HeaderMap headers = exchange.getRequestHeaders();
            for (HttpString name : removeRequest) {
                headers.remove(name);
            }
            for (int i = 0; i < setRequestNames.length; i++) {
                headers.put(setRequestNames[i], setRequestValues[i]);
            }
            if (responseChanges != null) {
                exchange.addResponseCommitListener(responseChanges);
            }
        }
    }

    /** A route's response header changes, made as the response head is committed: backends' answers and the proxy's own. */
    private record ResponseHeaderChanges(HttpString[] remove, HttpString[] setNames, String[] setValues) implements ResponseCommitListener {
        ResponseHeaderChanges(RouteConfig.HeaderChanges changes) {
            this(changes.remove().stream().map(HttpString::new).toArray(HttpString[]::new),
                    changes.set().keySet().stream().map(HttpString::new).toArray(HttpString[]::new),
                    changes.set().values().toArray(String[]::new));
        }

        @Override
        public void beforeCommit(HttpServerExchange exchange) {
            HeaderMap headers = exchange.getResponseHeaders();
            for (HttpString name : remove) {
                headers.remove(name);
            }
            for (int i = 0; i < setNames.length; i++) {
                headers.put(setNames[i], setValues[i]);
            }
        }
    }

    private volatile Table table;

    public Router(Table table) {
        this.table = table;
    }

    public Table table() {
        return table;
    }

    public void swap(Table next) {
        table = next;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        Table current = table;
        int index = current.routes().match(exchange.getRequestHeaders().getFirst(Headers.HOST), exchange.getRequestPath(),
                exchange.getRequestMethod().toString(), current.routes().readsHeaders() ? new ExchangeRequestView(exchange) : null);
        if (index < 0) {
            exchange.setStatusCode(ProxyAnswer.NO_ROUTE.status());
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
            exchange.getResponseSender().send(ProxyAnswer.NO_ROUTE.body());
            return;
        }
        Chosen chosen = current.chosen()[index];
        ProxiedRequest.of(exchange).routed(chosen);
        chosen.apply(exchange);
        chosen.upstream().handler.handleRequest(exchange);
    }
}
