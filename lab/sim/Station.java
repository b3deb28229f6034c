package lab.sim;

/**
 * One simulated backend's server side: {@code slots} requests served at once, the rest waiting in a
 * FIFO queue, as a thread-per-request server with a fixed pool would. Holds request ids only; the
 * {@link Simulation} keeps their times. Not thread-safe.
 */
final class Station {
    final BackendSpec spec;
    private int busy;
    private int[] waiting = new int[16];
    private int head, count;
    long served;

    Station(BackendSpec spec) {
        this.spec = spec;
    }

    /** Whether a request arriving now starts at once; if not, it is queued. */
    boolean admit(int request) {
        if (busy < spec.slots()) {
            busy++;
            return true;
        }
        if (count == waiting.length) {
            int[] grown = new int[count * 2];
            for (int i = 0; i < count; i++) grown[i] = waiting[(head + i) % waiting.length];
            waiting = grown;
            head = 0;
        }
        waiting[(head + count++) % waiting.length] = request;
        return false;
    }

    /** A request finished: returns the next one to start in the freed slot, or -1 when none waits. */
    int release() {
        if (count == 0) {
            busy--;
            return -1;
        }
        int next = waiting[head];
        head = (head + 1) % waiting.length;
        count--;
        return next;
    }

    /** Requests here now, served or waiting: the queue length a queueing formula speaks of. */
    int inSystem() {
        return busy + count;
    }

    @Override
    public String toString() {
        return spec + ": " + busy + " in service, " + count + " waiting";
    }
}
