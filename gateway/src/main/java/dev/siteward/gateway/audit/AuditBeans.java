package dev.siteward.gateway.audit;

import dev.siteward.gateway.server.SitewardConfiguration;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.ca.SiteCa;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.exceptions.ConfigurationException;
import java.nio.file.Path;
import java.time.Clock;

/**
 * The gateway's audit log: created at start-up (so that a head file left behind by a crash is dealt with before
 * the first request), with its key from the site CA, closed (final checkpoint) at shutdown.
 */
@Factory
public class AuditBeans {

    @Context
    @Bean(preDestroy = "close")
    AuditLog auditLog(SitewardConfiguration config, AuditConfiguration audit, GatewayStore store, SiteCa ca,
                      Clock clock) {
        Path dataDir = Path.of(config.getDataDir());
        AuditSettings settings;
        try {
            settings = audit.settings();
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException(e.getMessage(), e);
        }
        try {
            AuditKey.ensure(dataDir, ca, clock);
        } catch (Exception e) {
            throw new ConfigurationException("cannot set up the audit key: " + e.getMessage(), e);
        }
        // the key checked above; once its certificate is due, ensure() re-issues it (the log asks again then)
        AuditLog log = new AuditLog(store, dataDir, clock, settings, () -> AuditKey.ensure(dataDir, ca, clock),
                ca.root());
        AuditActor.useRequestIdentity(AdminCallAuditFilter::currentIdentity);
        try {
            log.recover();
        } catch (StoreException e) {
            throw new ConfigurationException("cannot open the audit log: " + e.getMessage(), e);
        }
        return log;
    }
}
