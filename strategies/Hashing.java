package strategies;

import java.nio.charset.StandardCharsets;

/**
 * The 64-bit hash the hash-based strategies share: FNV-1a over the UTF-8 bytes, then MurmurHash3's
 * fmix64 finalizer so that keys differing in one character land far apart on the ring. Stateless.
 */
final class Hashing {
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private Hashing() {}

    static long hash(String text) {
        long h = FNV_OFFSET;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * FNV_PRIME;
        }
        return mix(h);
    }

    /** MurmurHash3's 64-bit finalizer: every input bit affects every output bit. */
    static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
