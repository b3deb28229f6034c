package proxy.request;

import io.undertow.util.HeaderMap;
import io.undertow.util.HttpString;
import java.util.ArrayList;
import java.util.List;

/**
 * Client request headers no backend receives: names with an underscore, unless allowed, since CGI, WSGI
 * and PHP map {@code X_Forwarded_For} and {@code X-Forwarded-For} to the same {@code HTTP_X_FORWARDED_FOR},
 * so a twin would let a client pick its own address (nginx drops them too: {@code underscores_in_headers
 * off}); and the demo backends' control token, which only the admin side may use. Stateless.
 */
public final class DroppedRequestHeaders {
    /**
     * The header carrying a demo backend's control token: the load balancer drops it from every client
     * request, so its demo backends' controls stay out of reach even of a client who learnt it.
     */
    public static final String DEMO_TOKEN_HEADER = "X-LB-Demo-Token";

    private static final HttpString DEMO_TOKEN = new HttpString(DEMO_TOKEN_HEADER);

    private DroppedRequestHeaders() {}

    /** Removes the headers above from {@code headers}, those with an underscore only when {@code allowUnderscores} is false. */
    public static void strip(HeaderMap headers, boolean allowUnderscores) {
        headers.remove(DEMO_TOKEN);
        if (allowUnderscores) {
            return;
        }
        List<HttpString> underscored = null;
        // HeaderMap's cookie walk: its Iterator would be one allocation per request for a drop that almost never happens.
        for (long at = headers.fastIterateNonEmpty(); at != -1L; at = headers.fiNextNonEmpty(at)) {
            HttpString name = headers.fiCurrent(at).getHeaderName();
            if (name.toString().indexOf('_') >= 0) {
                if (underscored == null) {
                    underscored = new ArrayList<>(2);
                }
                underscored.add(name);
            }
        }
        if (underscored != null) {
            underscored.forEach(headers::remove);
        }
    }
}
