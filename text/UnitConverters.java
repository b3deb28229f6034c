package text;

import java.time.Duration;
import java.util.function.Function;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * picocli's side of {@link Units}, shared by every command line (load balancer, demo backend), so a
 * duration or a size reads the same everywhere: a bad value becomes picocli's one-line error naming
 * the option. Zero is a duration like any other here; a command that needs more says so in its own
 * validation. Stateless.
 */
public final class UnitConverters {
    private UnitConverters() {}

    /** "250ms", "30s", "1m30s", "1h": {@link Units#parseDuration}. */
    public static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String text) {
            return parsed(Units::parseDuration, text);
        }
    }

    /** "512", "64k", "10m", "1g": {@link Units#parseSize}. */
    public static final class SizeConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String text) {
            return parsed(Units::parseSize, text);
        }
    }

    /** {@code parser}'s value for {@code text}; its IllegalArgumentException becomes picocli's error, with the same message. */
    public static <T> T parsed(Function<String, T> parser, String text) {
        try {
            return parser.apply(text);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
