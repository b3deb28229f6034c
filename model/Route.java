package model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Where {@link Routing} sent one request and why: the backend, the strategy that picked it (and its
 * command-line name), the group it came from (primaries, backups, panic), the candidates and the
 * backends avoided with the reason for each. Immutable.
 *
 * @param avoided each avoided backend with why: "tried", "full" or "warming up"
 */
public record Route(Backend backend, Strategy strategy, String strategyName, String group, Candidates candidates, Map<Backend, String> avoided) {
    public Route {
        avoided = avoided.isEmpty() ? Map.of() : Collections.unmodifiableMap(avoided);
    }

    /** The X-LB-Explain text: "round-robin picked a:1 of 2 candidates (a:1, c:3) from the primaries, avoiding b:2 (tried); attempt 2". */
    public String explain(int attempt) {
        List<String> allowed = new ArrayList<>();
        for (Backend backend : candidates.all()) {
            if (!candidates.isAvoided(backend)) {
                allowed.add(backend.name());
            }
        }
        StringBuilder text = new StringBuilder(strategyName).append(" picked ").append(backend.name())
                .append(" of ").append(allowed.size()).append(" candidates (").append(String.join(", ", allowed))
                .append(") from the ").append(group);
        if (!avoided.isEmpty()) {
            List<String> reasons = new ArrayList<>();
            avoided.forEach((avoidedBackend, why) -> reasons.add(avoidedBackend.name() + " (" + why + ")"));
            text.append(", avoiding ").append(String.join(", ", reasons));
        }
        return text.append("; attempt ").append(attempt).toString();
    }
}
