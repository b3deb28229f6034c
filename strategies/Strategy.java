package strategies;

import java.util.List;
import proxy.Backend;

/**
 * A load-balancing algorithm: given the backends a request may go to, pick one.
 *
 * <p>The contract, which every strategy in this folder keeps and the conformance tests check:
 * <ul>
 *   <li>{@code candidates} is never empty, holds only backends that are eligible for this request
 *       (up, and not already tried for it), and must not be modified;</li>
 *   <li>the result is one of {@code candidates};</li>
 *   <li>{@code pick} runs on an IO thread, concurrently with other picks: it never blocks, never does
 *       I/O, and only reads backend bookkeeping (in-flight, latency); the proxy writes it.</li>
 * </ul>
 * The proxy passes the same list instance for as long as the pool does not change (and no backend has
 * been tried yet for the request), so a strategy may cache a structure built from it by identity.
 */
public interface Strategy {
    Backend pick(List<Backend> candidates, RequestView request);
}
