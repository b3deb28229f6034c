package model;

import java.time.Duration;

/**
 * How backends are judged and brought back: {@link HealthChecks active checks}, {@link PassiveEjection
 * passive ejection}, and what happens after. A backend that comes back (up again, or readmitted) gets
 * its share of traffic ramped up over {@code slowStart} (zero: at once). When no backend is left,
 * requests get 503 at once, unless {@code panic} (Envoy's panic mode): then they are spread over all
 * primaries as if all were up, in case the checks are what is wrong. Immutable.
 */
public record HealthSettings(HealthChecks checks, PassiveEjection ejection, Duration slowStart, boolean panic) {
    /** Passive ejection on, as nginx has it by default; active checks off until a path is given; no slow start, no panic. */
    public static final HealthSettings DEFAULTS = new HealthSettings(HealthChecks.OFF, PassiveEjection.DEFAULTS, Duration.ZERO, false);
}
