package dev.siteward.gateway.rollout;

import java.time.Duration;

/**
 * When a device counts as healthy after an install, and how much of a stage must say so before it expands.
 *
 * @param maxErrorRate   highest inference error rate (errors / inferences in the latest heartbeat) still healthy
 * @param maxLatencyP95  highest p95 inference latency in milliseconds still healthy; {@code null}: no bound
 * @param minHealthy     share of a stage's online devices that must report healthy before the stage expands
 * @param staleAfter     a device with no heartbeat for this long counts as offline (not waited for; flagged stale)
 */
public record HealthCriteria(double maxErrorRate, Double maxLatencyP95, double minHealthy, Duration staleAfter) {

    public static final double DEFAULT_MAX_ERROR_RATE = 0.05;
    public static final double DEFAULT_MIN_HEALTHY = 0.9;
    public static final Duration DEFAULT_STALE_AFTER = Duration.ofMinutes(15);
    public static final HealthCriteria DEFAULTS = new HealthCriteria(DEFAULT_MAX_ERROR_RATE, null,
            DEFAULT_MIN_HEALTHY, DEFAULT_STALE_AFTER);

    public HealthCriteria {
        if (!(maxErrorRate >= 0 && maxErrorRate <= 1)) {
            throw new IllegalArgumentException("the maximum error rate must be between 0 and 1");
        }
        if (maxLatencyP95 != null && !(maxLatencyP95 > 0)) {
            throw new IllegalArgumentException("the maximum p95 latency must be positive");
        }
        if (!(minHealthy > 0 && minHealthy <= 1)) {
            throw new IllegalArgumentException("the minimum healthy share must be above 0 and at most 1");
        }
        if (staleAfter == null || staleAfter.isNegative() || staleAfter.isZero()) {
            throw new IllegalArgumentException("the stale-after time must be positive");
        }
    }

    /** Why these figures are unhealthy, or null when they are healthy. */
    public String unhealthy(long inferences, long errors, Double p95) {
        if (inferences > 0 && (double) errors / inferences > maxErrorRate) {
            return String.format(java.util.Locale.ROOT, "error rate %.1f%% above %.1f%%", 100.0 * errors / inferences,
                    100 * maxErrorRate);
        }
        if (maxLatencyP95 != null && p95 != null && p95 > maxLatencyP95) {
            return String.format(java.util.Locale.ROOT, "p95 latency %.1f ms above %.1f ms", p95, maxLatencyP95);
        }
        return null;
    }
}
