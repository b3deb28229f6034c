package model;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The backends the proxy balances over, and those of them that may take requests now; plus backups,
 * which take requests only when no primary backend can (nginx's and HAProxy's "backup"). Every change
 * (a backend joins, leaves, changes weight, goes up or down) publishes new {@link Candidates} with a
 * new version, which strategies rebuild from once, and tells the {@link Listener}s who joined or left.
 * Copy-on-write: readers (every request, on every IO thread) read volatile fields without a lock; the
 * rare writers lock and swap.
 */
public final class BackendPool {
    /** Hears of membership changes, under the pool's lock: keep it short and non-blocking. */
    public interface Listener {
        void joined(Backend backend);

        void left(Backend backend);
    }

    private volatile List<Backend> backends;
    private volatile List<Backend> backups;
    private volatile Candidates eligible;
    private volatile Candidates eligibleBackups;
    private volatile Candidates primaries;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    public BackendPool(List<Backend> backends) {
        this(backends, List.of());
    }

    public BackendPool(List<Backend> backends, List<Backend> backups) {
        this.backends = List.copyOf(backends);
        this.backups = List.copyOf(backups);
        publish();
    }

    /** Tells {@code listener} of every backend already here, then of every one that joins or leaves. */
    public synchronized void addListener(Listener listener) {
        all().forEach(listener::joined);
        listeners.add(listener);
    }

    public void removeListener(Listener listener) {
        listeners.remove(listener);
    }

    /** The primaries that are up, not ejected and not draining, in pool order. */
    public Candidates eligibleCandidates() {
        return eligible;
    }

    /** The backups that are up: where requests go when no primary can take them. */
    public Candidates backupCandidates() {
        return eligibleBackups;
    }

    /** Every primary, up or not: what panic mode falls back to. */
    public Candidates panicCandidates() {
        return primaries;
    }

    /** The backends that are up and not ejected, in pool order; immutable. Empty when none is. */
    public List<Backend> eligible() {
        return eligible.all();
    }

    /** The backups that are up and not ejected. */
    public List<Backend> eligibleBackups() {
        return eligibleBackups.all();
    }

    /** The primaries, up or not. */
    public List<Backend> primaries() {
        return backends;
    }

    /** Every backend, primaries then backups: what health checks and statistics look at. */
    public List<Backend> all() {
        if (backups.isEmpty()) {
            return backends;
        }
        List<Backend> all = new ArrayList<>(backends);
        all.addAll(backups);
        return all;
    }

    /** Publishes new versions after a health change; keeps the old ones when nothing changed, so strategies rebuild nothing. */
    public synchronized void refresh() {
        if (!available(backends).equals(eligible.all())) {
            eligible = Candidates.of(available(backends));
        }
        if (!available(backups).equals(eligibleBackups.all())) {
            eligibleBackups = Candidates.of(available(backups));
        }
    }

    /** New versions of every list, whether or not their members changed: after a weight or membership change. */
    private void publish() {
        primaries = Candidates.of(backends);
        eligible = Candidates.of(available(backends));
        eligibleBackups = Candidates.of(available(backups));
    }

    /** Those of {@code list} that are up, not ejected and not draining, in order. */
    private static List<Backend> available(List<Backend> list) {
        return list.stream().filter(backend -> backend.health().isAvailable()).toList();
    }

    public synchronized void add(Backend backend) {
        List<Backend> next = new ArrayList<>(backends);
        next.add(backend);
        backends = List.copyOf(next);
        publish();
        listeners.forEach(listener -> listener.joined(backend));
    }

    /** Takes a backend out of rotation; requests already sent to it finish normally. */
    public synchronized boolean remove(Backend backend) {
        List<Backend> next = new ArrayList<>(backends);
        boolean removed = next.remove(backend);
        if (removed) {
            backends = List.copyOf(next);
            publish();
            listeners.forEach(listener -> listener.left(backend));
        }
        return removed;
    }

    /**
     * Makes {@code newBackends} and {@code newBackups} the members, in that order, as a reload does: a
     * backend in both the old and new lists (the same object) keeps its state; one no longer listed
     * leaves (requests already sent to it finish normally); the listeners hear of each join and leave.
     */
    public synchronized void replace(List<Backend> newBackends, List<Backend> newBackups) {
        List<Backend> before = all();
        List<Backend> after = new ArrayList<>(newBackends);
        after.addAll(newBackups);
        // Joiners are announced before anyone can pick them (their connections must exist by then),
        // leavers once nobody can pick them any more.
        for (Backend backend : after) {
            if (!before.contains(backend)) {
                listeners.forEach(listener -> listener.joined(backend));
            }
        }
        backends = List.copyOf(newBackends);
        backups = List.copyOf(newBackups);
        publish();
        for (Backend backend : before) {
            if (!after.contains(backend)) {
                listeners.forEach(listener -> listener.left(backend));
            }
        }
    }

    /**
     * Puts a backend into draining (no new requests; those in flight finish) or takes it out again.
     * Returns false when it is not in this pool.
     */
    public synchronized boolean drain(Backend backend, boolean draining) {
        if (!all().contains(backend)) {
            return false;
        }
        backend.health().setDraining(draining);
        refresh();
        return true;
    }

    /** Changes a backend's weight and publishes new versions, so weighted strategies rebuild once. */
    public synchronized void reweigh(Backend backend, int weight) {
        backend.setWeight(weight);
        publish();
    }
}
