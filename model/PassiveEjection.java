package model;

import java.time.Duration;

/**
 * Passive detection on real traffic: {@code maxFails} gateway failures in a row (refused or reset
 * connections, timeouts, 502/503/504 answers) eject a backend for {@code failTimeout} times the number of
 * times it has been ejected, up to ten times, but never more than {@code maxEjectedPercent} of the pool at
 * once (Envoy's outlier detection has the same cap). Immutable.
 *
 * @param maxFails failures in a row that eject; 0: never eject
 */
public record PassiveEjection(int maxFails, Duration failTimeout, int maxEjectedPercent) {
    /** On, as nginx has it by default: three failures in a row, ten seconds out, at most half the pool. */
    public static final PassiveEjection DEFAULTS = new PassiveEjection(3, Duration.ofSeconds(10), 50);
    /** Never eject: failures are counted, but nobody is taken out for them. */
    public static final PassiveEjection OFF = new PassiveEjection(0, DEFAULTS.failTimeout(), DEFAULTS.maxEjectedPercent());
}
