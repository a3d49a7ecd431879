package dev.siteward.gateway.rollout;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.core.annotation.Nullable;
import java.time.Duration;

/** Settings of staged rollouts under {@code siteward.rollouts.*} (docs/rollouts.md). */
@ConfigurationProperties(RolloutsConfiguration.PREFIX)
public class RolloutsConfiguration {

    public static final String PREFIX = "siteward.rollouts";
    /** How often running rollouts are judged: 10 seconds. */
    public static final Duration DEFAULT_TICK_INTERVAL = Duration.ofSeconds(10);

    private Duration tickInterval = DEFAULT_TICK_INTERVAL;
    private double maxErrorRate = HealthCriteria.DEFAULT_MAX_ERROR_RATE;
    private Double maxLatencyP95;
    private double minHealthy = HealthCriteria.DEFAULT_MIN_HEALTHY;

    /** How often running rollouts are judged ({@code siteward.rollouts.tick-interval}, default 10s). */
    public Duration getTickInterval() {
        return tickInterval;
    }

    public void setTickInterval(Duration tickInterval) {
        this.tickInterval = tickInterval;
    }

    /** Highest inference error rate of a healthy device, 0..1 ({@code siteward.rollouts.max-error-rate}, 0.05). */
    public double getMaxErrorRate() {
        return maxErrorRate;
    }

    public void setMaxErrorRate(double maxErrorRate) {
        this.maxErrorRate = maxErrorRate;
    }

    /** Highest p95 latency in ms of a healthy device ({@code siteward.rollouts.max-latency-p95}; none by default). */
    @Nullable
    public Double getMaxLatencyP95() {
        return maxLatencyP95;
    }

    public void setMaxLatencyP95(@Nullable Double maxLatencyP95) {
        this.maxLatencyP95 = maxLatencyP95;
    }

    /** Share of a stage's online devices that must be healthy to expand ({@code siteward.rollouts.min-healthy}). */
    public double getMinHealthy() {
        return minHealthy;
    }

    public void setMinHealthy(double minHealthy) {
        this.minHealthy = minHealthy;
    }
}
