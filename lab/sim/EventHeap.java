package lab.sim;

import java.util.Arrays;

/**
 * The simulation's pending completions: a binary min-heap of (time, request) pairs in two primitive
 * arrays, so a million events cost no objects. Ties leave in request order, which keeps runs
 * deterministic. Not thread-safe.
 */
final class EventHeap {
    private long[] times = new long[1024];
    private int[] requests = new int[1024];
    private int size;

    boolean isEmpty() {
        return size == 0;
    }

    long peekTime() {
        return times[0];
    }

    void add(long time, int request) {
        if (size == times.length) {
            times = Arrays.copyOf(times, size * 2);
            requests = Arrays.copyOf(requests, size * 2);
        }
        int at = size++;
        while (at > 0) {
            int parent = (at - 1) >>> 1;
            if (!before(time, request, times[parent], requests[parent])) break;
            times[at] = times[parent];
            requests[at] = requests[parent];
            at = parent;
        }
        times[at] = time;
        requests[at] = request;
    }

    /** Removes the earliest event and returns its request. */
    int poll() {
        int first = requests[0];
        size--;
        long time = times[size];
        int request = requests[size];
        int at = 0;
        while (true) {
            int child = 2 * at + 1;
            if (child >= size) break;
            if (child + 1 < size && before(times[child + 1], requests[child + 1], times[child], requests[child])) child++;
            if (!before(times[child], requests[child], time, request)) break;
            times[at] = times[child];
            requests[at] = requests[child];
            at = child;
        }
        times[at] = time;
        requests[at] = request;
        return first;
    }

    private static boolean before(long time, int request, long otherTime, int otherRequest) {
        return time < otherTime || (time == otherTime && request < otherRequest);
    }
}
