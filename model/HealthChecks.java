package model;

import java.time.Duration;

/**
 * Active health checks: every {@code interval}, ask each backend for {@code path}; a 2xx or 3xx within
 * {@code timeout} is good. {@code fall} failures in a row take a backend down, {@code rise} successes
 * bring it back (HAProxy's terms). Immutable.
 *
 * @param path the path to ask for, like /health; null: no active checks
 */
public record HealthChecks(String path, Duration interval, Duration timeout, int rise, int fall) {
    /** No active checks; the timings the command line shows, should a path be given. */
    public static final HealthChecks OFF = new HealthChecks(null, Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 3);

    public boolean isOn() {
        return path != null;
    }
}
