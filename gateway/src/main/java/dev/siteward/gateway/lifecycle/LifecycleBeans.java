package dev.siteward.gateway.lifecycle;

import dev.siteward.gateway.admins.AdminDirectory;
import dev.siteward.gateway.cli.DurationText;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.server.GatewayCredentials;
import dev.siteward.pki.ca.SiteCa;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;
import java.time.Clock;

/** Wires the gateway's lifecycle services: the expiry watch and its metrics. */
@Factory
public class LifecycleBeans {

    @Singleton
    ExpiryWatch expiryWatch(SiteCa ca, AdminDirectory admins, DeviceRegistry devices, GatewayCredentials credentials,
                            Clock clock, dev.siteward.gateway.server.SitewardConfiguration site) {
        return new ExpiryWatch(ca, admins, devices, () -> credentials.serverKeys().chain()[0], clock,
                site.getDataDir() == null ? null : java.nio.file.Path.of(site.getDataDir()));
    }

    /**
     * The expiry watch on {@code /prometheus}, computed at most once per {@code siteward.expiry-metrics-refresh}
     * (default 1m).
     */
    @Singleton
    ExpiryMetrics expiryMetrics(ExpiryWatch watch, Clock clock,
                                @io.micronaut.context.annotation.Value("${siteward.expiry-metrics-refresh:1m}")
                                String refresh) {
        java.time.Duration every;
        try {
            every = DurationText.parse(refresh);
        } catch (IllegalArgumentException e) {
            throw new io.micronaut.context.exceptions.ConfigurationException("siteward.expiry-metrics-refresh: "
                    + e.getMessage());
        }
        return new ExpiryMetrics(watch, clock, every);
    }
}
