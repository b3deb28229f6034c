package strategies;

import java.util.List;
import proxy.Backend;

/**
 * First: always the first candidate in pool order, so the backends are used as an ordered list of
 * fallbacks: the second gets traffic only while the first is down or already tried (HAProxy's
 * "first", without its per-server connection limit). Stateless, so thread-safe.
 */
public final class First implements Strategy {
    @Override
    public Backend pick(List<Backend> candidates, RequestView request) {
        return candidates.get(0);
    }
}
