package dev.siteward.gateway.rollout;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A latency histogram for shadow mode with fixed bounds, so that counts from any gateway and any run add up: bucket
 * {@code i} holds latencies up to {@code 0.01 ms * 1.25^i}, from 0.01 ms to about 17 s, and the last bucket
 * everything above. A percentile is reported as its bucket's upper bound: at most 25% above the true value. Thread-safe; stored as comma-separated
 * counts.
 */
public final class ShadowLatency {

    /** Number of buckets (the last is unbounded). */
    public static final int BUCKETS = 66;
    private static final double FIRST_MS = 0.01;
    private static final double GROWTH = 1.25;
    private static final double[] BOUNDS = new double[BUCKETS - 1];

    static {
        double b = FIRST_MS;
        for (int i = 0; i < BOUNDS.length; i++) {
            BOUNDS[i] = b;
            b *= GROWTH;
        }
    }

    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);

    /** Records one latency in milliseconds. */
    public void observe(double millis) {
        int i = Arrays.binarySearch(BOUNDS, millis);
        counts.incrementAndGet(i >= 0 ? i : -i - 1);
    }

    /** Adds another histogram's counts. */
    public void add(long[] other) {
        for (int i = 0; i < Math.min(BUCKETS, other.length); i++) {
            counts.addAndGet(i, other[i]);
        }
    }

    /** The counts, and resets them to zero (what a flush moves to the database). */
    public long[] drain() {
        long[] out = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            out[i] = counts.getAndSet(i, 0);
        }
        return out;
    }

    public long[] snapshot() {
        long[] out = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            out[i] = counts.get(i);
        }
        return out;
    }

    /**
     * The {@code q}-quantile (0..1) of the counts as the upper bound of the bucket it falls in (milliseconds), or
     * {@code null} without observations; above the last bound it is reported as that bound.
     */
    public static Double quantile(long[] counts, double q) {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        if (total == 0) {
            return null;
        }
        long rank = Math.max(1, (long) Math.ceil(q * total));
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return round(BOUNDS[Math.min(i, BOUNDS.length - 1)]);
            }
        }
        return round(BOUNDS[BOUNDS.length - 1]);
    }

    private static double round(double ms) {
        return Math.round(ms * 1000) / 1000.0;
    }

    /** Comma-separated counts. */
    public static String format(long[] counts) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < counts.length; i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append(counts[i]);
        }
        return b.toString();
    }

    /** Parses {@link #format}'s text; an empty or malformed text is no observations. */
    public static long[] parse(String text) {
        long[] out = new long[BUCKETS];
        if (text == null || text.isBlank()) {
            return out;
        }
        String[] parts = text.split(",");
        for (int i = 0; i < Math.min(BUCKETS, parts.length); i++) {
            try {
                out[i] = Long.parseLong(parts[i].strip());
            } catch (NumberFormatException e) {
                return new long[BUCKETS];
            }
        }
        return out;
    }
}
