package dev.siteward.device;

import java.time.Duration;
import java.util.Random;

/**
 * Exponential backoff with jitter for retries while the gateway is unreachable: attempt {@code n} (from 0) waits a
 * random time in {@code [b/2, b]} where {@code b = min(max, initial * 2^n)} ("equal jitter"), so devices that lost
 * the gateway together do not come back in step, and no wait ever exceeds {@code max}.
 */
public final class Backoff {

    public static final Duration DEFAULT_INITIAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_MAX = Duration.ofMinutes(5);

    private final Duration initial;
    private final Duration max;
    private final Random random;

    public Backoff(Duration initial, Duration max, Random random) {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < initial <= max");
        }
        this.initial = initial;
        this.max = max;
        this.random = random;
    }

    /** 1 s initial, 5 min at most. */
    public static Backoff defaults(Random random) {
        return new Backoff(DEFAULT_INITIAL, DEFAULT_MAX, random);
    }

    /** The upper bound of the wait before retry {@code attempt} (0-based). */
    public Duration ceiling(int attempt) {
        if (attempt < 0) {
            throw new IllegalArgumentException("attempt must be >= 0");
        }
        long ms = initial.toMillis();
        for (int i = 0; i < attempt && ms < max.toMillis(); i++) {
            ms *= 2;
        }
        return Duration.ofMillis(Math.min(ms, max.toMillis()));
    }

    /** The wait before retry {@code attempt} (0-based): uniformly random in {@code [ceiling/2, ceiling]}. */
    public Duration delay(int attempt) {
        long c = ceiling(attempt).toMillis();
        long half = c / 2;
        return Duration.ofMillis(half + (long) (random.nextDouble() * (c - half + 1)));
    }
}
