package strategies;

import model.Backend;
import model.Candidates;
import model.RequestView;
import model.Strategy;

/**
 * First: always the first candidate in pool order, so the backends are used as an ordered list of
 * fallbacks: the second gets traffic only while the first is down, full or already tried (HAProxy's
 * "first"). Stateless, so thread-safe.
 */
public final class First implements Strategy {
    @Override
    public Backend pick(Candidates candidates, RequestView request) {
        return candidates.allowed(0);
    }
}
