package model;

/**
 * Something that happened to a pool or one of its backends, typed where it happens: the health monitor's
 * ejections and checks, an operator's drain, weight or strategy change, a reload. The text is what the
 * event log prints; the kind and the backend are what the dashboard and {@code /events} read, never parsed
 * back out of the text. Immutable.
 *
 * @param kind    what happened
 * @param backend the backend's name, or null when the event is about no single backend
 * @param text    one line for people
 */
public record PoolEvent(Kind kind, String backend, String text) {
    /** What an event is about, for the dashboard's markers. */
    public enum Kind { EJECTED, BACK, DOWN, UP, DRAINED, UNDRAINED, STRATEGY, WEIGHT, ADDED, REMOVED, BROKEN, HEALED, RELOADED, OTHER }

    /** An event about no single backend. */
    public static PoolEvent of(Kind kind, String text) {
        return new PoolEvent(kind, null, text);
    }
}
