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
     * (default 1m); the trusted publishers' roots come from {@code trust/publishers.yaml} at each computation.
     */
    @Singleton
    ExpiryMetrics expiryMetrics(ExpiryWatch watch, Clock clock, dev.siteward.gateway.server.SitewardConfiguration site,
                                @io.micronaut.context.annotation.Value("${siteward.expiry-metrics-refresh:1m}")
                                String refresh) {
        java.time.Duration every;
        try {
            every = DurationText.parse(refresh);
        } catch (IllegalArgumentException e) {
            throw new io.micronaut.context.exceptions.ConfigurationException("siteward.expiry-metrics-refresh: "
                    + e.getMessage());
        }
        java.nio.file.Path dataDir = site.getDataDir() == null ? null : java.nio.file.Path.of(site.getDataDir());
        return new ExpiryMetrics(watch, () -> publisherRoots(dataDir), clock, every);
    }

    static java.util.List<ExpiryMetrics.PublisherRoot> publisherRoots(java.nio.file.Path dataDir) {
        if (dataDir == null) {
            return java.util.List.of();
        }
        try {
            java.util.List<ExpiryMetrics.PublisherRoot> out = new java.util.ArrayList<>();
            for (var p : dev.siteward.gateway.trust.PublisherTrust.load(dataDir).publishers()) {
                p.roots().forEach(r -> out.add(new ExpiryMetrics.PublisherRoot(p.name(), r)));
            }
            return out;
        } catch (dev.siteward.gateway.trust.PublisherTrustException e) {
            throw new IllegalStateException("publishers unreadable: " + e.getMessage(), e);
        }
    }
}
