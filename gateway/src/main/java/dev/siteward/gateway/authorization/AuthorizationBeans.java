package dev.siteward.gateway.authorization;

import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.server.SitewardConfiguration;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.trust.PublisherTrust;
import dev.siteward.gateway.trust.PublisherTrustException;
import dev.siteward.pki.ca.SiteCa;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.exceptions.ConfigurationException;
import io.micronaut.scheduling.annotation.Scheduled;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/**
 * Wires action permissions: the policy service over {@code <data-dir>/policy}, the decision log, the grant signer,
 * the action service and the incoming-folder watcher. The policy state and the grant signer are created at start-up,
 * so a bad setting or an unusable data dir stops the gateway before it listens. Settings: {@code siteward.policy.grant-ttl} (default 30s, at
 * most 30s), {@code siteward.policy.incoming-settle} (default 2s).
 */
@Factory
public class AuthorizationBeans {

    @Context
    PolicyService policyService(SitewardConfiguration config, Clock clock,
                                dev.siteward.gateway.audit.AuditTrail audit) {
        Path dataDir = dataDir(config);
        try {
            PolicyService service = new PolicyService(dataDir, policyRoots(dataDir), clock);
            service.auditTo(audit);
            return service;
        } catch (IOException e) {
            throw new ConfigurationException("cannot open the policy state: " + e.getMessage(), e);
        }
    }

    /** The policy publishers' roots, read from {@code trust/publishers.yaml} at every call. */
    public static PolicyService.PolicyRoots policyRoots(Path dataDir) {
        return () -> {
            try {
                return PublisherTrust.load(dataDir).policyRoots();
            } catch (PublisherTrustException e) {
                throw new IOException(e.getMessage(), e);
            }
        };
    }

    @Singleton
    DecisionLog decisionLog(GatewayStore store) {
        return new DecisionLog(store);
    }

    @Context
    GrantIssuer grantIssuer(SitewardConfiguration config, SiteCa ca, Clock clock,
                            @Value("${siteward.policy.grant-ttl:30s}") Duration ttl) {
        try {
            return new GrantIssuer(dataDir(config), ca, clock, ttl);
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException("siteward.policy.grant-ttl: " + e.getMessage(), e);
        } catch (Exception e) {
            throw new ConfigurationException("cannot set up the grant signer: " + e.getMessage(), e);
        }
    }

    @Singleton
    ActionService actionService(PolicyService policies, DecisionLog log, GrantIssuer grants, DeviceRegistry devices,
                                SiteCa ca, dev.siteward.gateway.audit.AuditTrail audit) {
        return new ActionService(policies, log, grants, devices, ca.registry(), audit);
    }

    @Singleton
    IncomingBundles incomingBundles(PolicyService policies, Clock clock,
                                    @Value("${siteward.policy.incoming-settle:2s}") Duration settle) {
        try {
            return new IncomingBundles(policies, clock, settle);
        } catch (IOException e) {
            throw new ConfigurationException("cannot create the policy incoming folder: " + e.getMessage(), e);
        }
    }

    /** Scans the incoming folder once a second. */
    @Singleton
    @Requires(property = "siteward.policy.incoming-watch", notEquals = "false")
    static class IncomingWatch {
        private final IncomingBundles incoming;

        IncomingWatch(IncomingBundles incoming) {
            this.incoming = incoming;
        }

        @Scheduled(fixedDelay = "1s", initialDelay = "1s")
        void scan() {
            incoming.scan();
        }
    }

    /** Renews the grant certificate when due even while no grant is issued, so it never sits expired on disk. */
    @Singleton
    static class GrantKeyRenewal {
        private final GrantIssuer grants;

        GrantKeyRenewal(GrantIssuer grants) {
            this.grants = grants;
        }

        @Scheduled(fixedDelay = "1h", initialDelay = "1h")
        void renew() {
            grants.renewIfDue();
        }
    }

    private static Path dataDir(SitewardConfiguration config) {
        if (config.getDataDir() == null || config.getDataDir().isBlank()) {
            throw new ConfigurationException("siteward.data-dir is not set");
        }
        return Path.of(config.getDataDir());
    }
}
