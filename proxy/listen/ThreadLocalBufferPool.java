package proxy.listen;

import io.undertow.connector.ByteBufferPool;
import io.undertow.connector.PooledByteBuffer;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The buffers for client and backend connections: each thread keeps its own stack of free buffers, so
 * an IO thread that takes and returns a buffer per read touches no lock and no shared cache line; a
 * buffer freed beyond a thread's share goes to a small lock-free shared queue that any thread refills
 * from. Closes the gap of Undertow's {@code DefaultByteBufferPool}, whose per-thread cache sits behind
 * a synchronized {@code WeakHashMap} and which, as {@code Undertow.builder()} sizes it, frees and
 * reallocates most buffers. Thread-safe; a buffer may be freed on another thread than the one that took it.
 */
public final class ThreadLocalBufferPool implements ByteBufferPool {
    private final boolean direct;
    private final int bufferSize;
    private final int perThread;
    private final int shared;
    private final ThreadLocal<ArrayDeque<ByteBuffer>> local = ThreadLocal.withInitial(ArrayDeque::new);
    /**
     * The same stacks for the first threads that use the pool (the IO threads, which take and return a buffer per
     * read), by thread id: a slot that names the current thread is its stack, found with no ThreadLocal lookup.
     */
    private final AtomicReferenceArray<Owned> owned = new AtomicReferenceArray<>(OWNED_SLOTS);
    private static final int OWNED_SLOTS = 64; // a power of two
    private final ConcurrentLinkedQueue<ByteBuffer> spare = new ConcurrentLinkedQueue<>();
    private final AtomicInteger spareCount = new AtomicInteger();
    private volatile ThreadLocalBufferPool arrayBacked;
    private volatile boolean closed;

    /**
     * @param perThread free buffers each thread keeps for itself
     * @param shared    free buffers kept for any thread beyond that; more are left to the garbage collector
     */
    public ThreadLocalBufferPool(boolean direct, int bufferSize, int perThread, int shared) {
        this.direct = direct;
        this.bufferSize = bufferSize;
        this.perThread = perThread;
        this.shared = shared;
    }

    /** A thread's stack of free buffers, and the thread. */
    private record Owned(Thread thread, ArrayDeque<ByteBuffer> free) {}

    /** The current thread's stack: from its slot if it holds one, else its ThreadLocal, which then claims a free slot. */
    private ArrayDeque<ByteBuffer> mine() {
        Thread current = Thread.currentThread();
        int slot = (int) current.getId() & (OWNED_SLOTS - 1);
        Owned owner = owned.get(slot);
        if (owner != null && owner.thread() == current) {
            return owner.free();
        }
        ArrayDeque<ByteBuffer> free = local.get();
        if (owner == null) {
            owned.compareAndSet(slot, null, new Owned(current, free)); // a lost race leaves the slot to the other thread
        } else if (!owner.thread().isAlive()) {
            owned.compareAndSet(slot, owner, new Owned(current, free)); // a finished thread's slot is free again
        }
        return free;
    }

    @Override
    public PooledByteBuffer allocate() {
        ByteBuffer buffer = mine().pollLast();
        if (buffer == null && (buffer = spare.poll()) != null) {
            spareCount.decrementAndGet();
        }
        if (buffer == null) {
            buffer = direct ? ByteBuffer.allocateDirect(bufferSize) : ByteBuffer.allocate(bufferSize);
        } else {
            buffer.clear();
        }
        return new Pooled(this, buffer);
    }

    /** Keeps {@code buffer} for the next {@link #allocate()}, on this thread if it has room. */
    void free(ByteBuffer buffer) {
        if (closed) {
            return;
        }
        ArrayDeque<ByteBuffer> mine = mine();
        if (mine.size() < perThread) {
            mine.addLast(buffer);
        } else if (spareCount.incrementAndGet() <= shared) {
            spare.offer(buffer);
        } else {
            spareCount.decrementAndGet();
        }
    }

    @Override
    public ByteBufferPool getArrayBackedPool() {
        if (!direct) {
            return this;
        }
        ThreadLocalBufferPool heap = arrayBacked;
        if (heap == null) {
            synchronized (this) { // once, at the first request that needs an array (e.g. a TLS engine)
                if (arrayBacked == null) {
                    arrayBacked = new ThreadLocalBufferPool(false, bufferSize, perThread, shared);
                }
                heap = arrayBacked;
            }
        }
        return heap;
    }

    @Override
    public void close() {
        closed = true;
        spare.clear();
        ThreadLocalBufferPool heap = arrayBacked;
        if (heap != null) {
            heap.close();
        }
    }

    @Override
    public int getBufferSize() {
        return bufferSize;
    }

    @Override
    public boolean isDirect() {
        return direct;
    }

    /** One loan of a buffer; closing it twice returns the buffer once. Used by one thread at a time. */
    private static final class Pooled implements PooledByteBuffer {
        private final ThreadLocalBufferPool pool;
        private ByteBuffer buffer;

        Pooled(ThreadLocalBufferPool pool, ByteBuffer buffer) {
            this.pool = pool;
            this.buffer = buffer;
        }

        @Override
        public ByteBuffer getBuffer() {
            ByteBuffer current = buffer;
            if (current == null) {
                throw new IllegalStateException("buffer already returned to the pool");
            }
            return current;
        }

        @Override
        public void close() {
            ByteBuffer current = buffer;
            if (current != null) {
                buffer = null;
                pool.free(current);
            }
        }

        @Override
        public boolean isOpen() {
            return buffer != null;
        }

        @Override
        public String toString() {
            return "PooledBuffer(" + buffer + ")";
        }
    }
}
