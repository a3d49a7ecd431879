package dev.siteward.gateway.time;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.server.SitewardConfiguration;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.exceptions.ConfigurationException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/**
 * Wires the trusted-time guard at start-up (a clock behind the recorded time fails the start) and records the time
 * at shutdown. {@code siteward.clock-tolerance} (default 5m) is how far behind the record the clock may be.
 */
@Factory
public class TimeBeans {

    @Context
    @Bean(preDestroy = "close")
    TimeGuard timeGuard(SitewardConfiguration config, Clock clock,
                        @Value("${siteward.clock-tolerance:5m}") Duration tolerance) {
        if (config.getDataDir() == null || config.getDataDir().isBlank()) {
            throw new ConfigurationException("siteward.data-dir is not set");
        }
        if (tolerance.isNegative()) {
            throw new ConfigurationException("siteward.clock-tolerance must not be negative");
        }
        try {
            return TimeGuard.open(Path.of(config.getDataDir()), clock, System::nanoTime, tolerance);
        } catch (GatewayException e) {
            throw new ConfigurationException("refusing to start: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ConfigurationException("refusing to start: " + e.getMessage(), e);
        }
    }

    /** Trusted time on {@code /prometheus}. */
    @jakarta.inject.Singleton
    TimeMetrics timeMetrics(TimeGuard guard) {
        return new TimeMetrics(guard);
    }
}
