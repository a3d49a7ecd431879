package dev.siteward.gateway.server;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A token bucket per source address: {@code ratePerSecond} sustained, {@code burst} at once. Idle buckets are
 * dropped so the table stays bounded by the number of recently active sources.
 */
public final class SourceRateLimiter {

    private static final int MAX_SOURCES = 100_000;

    private final double ratePerSecond;
    private final double burst;
    private final Clock clock;
    private final Map<String, double[]> buckets = new ConcurrentHashMap<>();

    public SourceRateLimiter(double ratePerSecond, int burst, Clock clock) {
        this.ratePerSecond = ratePerSecond;
        this.burst = burst;
        this.clock = clock;
    }

    /** True when the source may make one more request now. */
    public boolean tryAcquire(String source) {
        long nowNanos = clock.millis() * 1_000_000L;
        if (buckets.size() > MAX_SOURCES) {
            buckets.entrySet().removeIf(e -> e.getValue()[0] >= burst);
        }
        double[] b = buckets.computeIfAbsent(source, k -> new double[] {burst, nowNanos});
        synchronized (b) {
            double elapsed = Math.max(0, (nowNanos - b[1]) / 1e9);
            b[0] = Math.min(burst, b[0] + elapsed * ratePerSecond);
            b[1] = nowNanos;
            if (b[0] >= 1) {
                b[0] -= 1;
                return true;
            }
            return false;
        }
    }
}
