package strategies;

import java.util.Locale;
import java.util.function.Function;
import model.RequestView;

/**
 * What a hash strategy hashes on, as given to {@code --hash-key}: {@code client} (the client's IP
 * address), {@code path}, {@code header:NAME} or {@code cookie:NAME}. A request that lacks the header or
 * cookie is hashed on its client address instead, so it still sticks somewhere. Immutable.
 */
public final class HashKey {
    public static final HashKey CLIENT = new HashKey("client", RequestView::clientAddress);

    private final String spec;
    private final Function<RequestView, String> extractor;

    private HashKey(String spec, Function<RequestView, String> extractor) {
        this.spec = spec;
        this.extractor = extractor;
    }

    /**
     * Reads a {@code --hash-key} value; null means the default, {@code client}.
     *
     * @throws IllegalArgumentException with a message that shows the accepted forms
     */
    public static HashKey parse(String spec) {
        if (spec == null || spec.equalsIgnoreCase("client")) {
            return CLIENT;
        }
        if (spec.equalsIgnoreCase("path")) {
            return new HashKey("path", RequestView::path);
        }
        int colon = spec.indexOf(':');
        String kind = colon < 0 ? "" : spec.substring(0, colon).toLowerCase(Locale.ROOT);
        String name = colon < 0 ? "" : spec.substring(colon + 1).trim();
        if (!name.isEmpty() && kind.equals("header")) {
            return new HashKey(spec, request -> request.header(name));
        }
        if (!name.isEmpty() && kind.equals("cookie")) {
            return new HashKey(spec, request -> request.cookie(name));
        }
        throw new IllegalArgumentException("--hash-key: expected client, path, header:NAME or cookie:NAME, got '" + spec + "'");
    }

    /** The key of this request: never null. */
    String of(RequestView request) {
        String key = extractor.apply(request);
        if (key == null) {
            key = request.clientAddress();
        }
        return key == null ? "" : key;
    }

    @Override
    public String toString() {
        return spec;
    }
}
