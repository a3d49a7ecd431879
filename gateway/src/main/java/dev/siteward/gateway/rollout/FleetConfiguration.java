package dev.siteward.gateway.rollout;

import io.micronaut.context.annotation.ConfigurationProperties;
import java.time.Duration;

/** Fleet health settings under {@code siteward.fleet.*}. */
@ConfigurationProperties(FleetConfiguration.PREFIX)
public class FleetConfiguration {

    public static final String PREFIX = "siteward.fleet";

    private Duration staleAfter = HealthCriteria.DEFAULT_STALE_AFTER;

    /** A device with no heartbeat for this long is flagged stale ({@code siteward.fleet.stale-after}, 15m). */
    public Duration getStaleAfter() {
        return staleAfter;
    }

    public void setStaleAfter(Duration staleAfter) {
        this.staleAfter = staleAfter;
    }
}
