package model;

import java.time.Duration;

/**
 * How backends are judged. Active checks ({@code checkPath} not null) ask every backend for that path
 * every {@code checkInterval}: {@code fall} failures in a row take it down, {@code rise} successes bring
 * it back (HAProxy's terms). Passive detection watches real traffic: {@code maxFails} gateway failures
 * in a row (refused or reset connections, timeouts, 502/503/504 answers) eject a backend for
 * {@code failTimeout} times the number of times it has been ejected, up to ten times, but never more than
 * {@code maxEjectedPercent} of the pool at once; 0 {@code maxFails} turns it off. A backend that comes
 * back (up again, or readmitted) gets its share of traffic ramped up over {@code slowStart} (zero: at once).
 * When no backend is left, requests get 503 at once, unless {@code panic} (Envoy's panic mode): then
 * they are spread over all primaries as if all were up, in case the checks are what is wrong.
 */
public record HealthSettings(String checkPath, Duration checkInterval, Duration checkTimeout, int rise, int fall,
                             int maxFails, Duration failTimeout, int maxEjectedPercent, Duration slowStart, boolean panic) {
    /** Passive detection on, as nginx has it by default; active checks off until a path is given; no slow start. */
    public static final HealthSettings DEFAULTS = new HealthSettings(null, Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 3,
            3, Duration.ofSeconds(10), 50, Duration.ZERO, false);

    public boolean checksActively() {
        return checkPath != null;
    }
}
