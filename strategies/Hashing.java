package strategies;

/**
 * The 64-bit hash the hash-based strategies share: FNV-1a over the UTF-8 bytes, then MurmurHash3's
 * fmix64 finalizer so that keys differing in one character land far apart on the ring. The bytes are
 * encoded on the fly, as {@code String.getBytes(UTF_8)} would give them (a lone surrogate as '?'), so
 * hashing a key allocates nothing: it runs on every pick. Stateless.
 */
final class Hashing {
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private Hashing() {}

    static long hash(String text) {
        long h = FNV_OFFSET;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                h = step(h, c);
            } else if (c < 0x800) {
                h = step(step(h, 0xc0 | c >> 6), 0x80 | c & 0x3f);
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                int point = Character.toCodePoint(c, text.charAt(++i));
                h = step(step(step(step(h, 0xf0 | point >> 18), 0x80 | point >> 12 & 0x3f), 0x80 | point >> 6 & 0x3f), 0x80 | point & 0x3f);
            } else if (Character.isSurrogate(c)) {
                h = step(h, '?'); // what getBytes(UTF_8) writes for a lone surrogate
            } else {
                h = step(step(step(h, 0xe0 | c >> 12), 0x80 | c >> 6 & 0x3f), 0x80 | c & 0x3f);
            }
        }
        return mix(h);
    }

    /** FNV-1a: fold in one byte. */
    private static long step(long h, int octet) {
        return (h ^ (octet & 0xff)) * FNV_PRIME;
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
