package dev.siteward.gateway.server;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A token bucket per key (a source address, a device): {@code ratePerSecond} sustained, {@code burst} at once. Idle
 * buckets are dropped so the table stays bounded by the number of recently active keys. Time comes from the
 * injected clock only.
 */
public final class SourceRateLimiter {

    private static final int MAX_SOURCES = 100_000;

    private final double ratePerSecond;
    private final double burst;
    private final Clock clock;
    private final Map<String, double[]> buckets = new ConcurrentHashMap<>();

    public SourceRateLimiter(double ratePerSecond, int burst, Clock clock) {
        this(ratePerSecond, (double) burst, clock);
    }

    public SourceRateLimiter(double ratePerSecond, double burst, Clock clock) {
        if (!(ratePerSecond > 0) || !(burst >= 1)) {
            throw new IllegalArgumentException("a rate limit needs a positive rate and a burst of at least 1");
        }
        this.ratePerSecond = ratePerSecond;
        this.burst = burst;
        this.clock = clock;
    }

    /** The sustained rate per second. */
    public double ratePerSecond() {
        return ratePerSecond;
    }

    /** The most that can be taken at once. */
    public double burst() {
        return burst;
    }

    /** True when the source may make one more request now. */
    public boolean tryAcquire(String source) {
        return acquire(source, 1) == 0;
    }

    /**
     * Takes {@code cost} tokens from the key's bucket if it holds that many, answering 0; otherwise takes nothing and
     * answers how many milliseconds until it will (at least 1). A cost above the burst can never be taken: it answers
     * {@link Long#MAX_VALUE}.
     */
    public long acquire(String key, double cost) {
        if (cost > burst) {
            return Long.MAX_VALUE;
        }
        long nowNanos = clock.millis() * 1_000_000L;
        if (buckets.size() > MAX_SOURCES) {
            buckets.entrySet().removeIf(e -> e.getValue()[0] >= burst);
        }
        double[] b = buckets.computeIfAbsent(key, k -> new double[] {burst, nowNanos});
        synchronized (b) {
            double elapsed = Math.max(0, (nowNanos - b[1]) / 1e9);
            b[0] = Math.min(burst, b[0] + elapsed * ratePerSecond);
            b[1] = Math.max(b[1], nowNanos);
            if (b[0] >= cost) {
                b[0] -= cost;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((cost - b[0]) / ratePerSecond * 1000));
        }
    }

    /** Gives back {@code amount} tokens taken by {@link #acquire} for something that was not done after all. */
    public void refund(String key, double amount) {
        double[] b = buckets.get(key);
        if (b != null && amount > 0) {
            synchronized (b) {
                b[0] = Math.min(burst, b[0] + amount);
            }
        }
    }
}
