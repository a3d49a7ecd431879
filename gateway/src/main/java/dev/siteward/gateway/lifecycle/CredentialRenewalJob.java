package dev.siteward.gateway.lifecycle;

import dev.siteward.gateway.admins.AdminDirectory;
import dev.siteward.gateway.server.GatewayCredentials;
import io.micronaut.scheduling.annotation.Scheduled;
import jakarta.inject.Singleton;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews the gateway's own credentials while it runs: every {@code siteward.renewal-check-interval} (default 10m)
 * it renews the server certificate and the bootstrap admin's certificate once two thirds of their lifetime have
 * passed, and the listeners serve the new server certificate from the next handshake. A failure is logged and
 * retried at the next check; the working credential stays in place meanwhile.
 */
@Singleton
public class CredentialRenewalJob {

    private static final Logger LOG = LoggerFactory.getLogger(CredentialRenewalJob.class);

    private final GatewayCredentials credentials;
    private final AdminDirectory admins;
    private final dev.siteward.gateway.time.TimeGuard time;

    public CredentialRenewalJob(GatewayCredentials credentials, AdminDirectory admins,
                                dev.siteward.gateway.time.TimeGuard time) {
        this.credentials = credentials;
        this.admins = admins;
        this.time = time;
    }

    @Scheduled(fixedDelay = "${siteward.renewal-check-interval:10m}",
            initialDelay = "${siteward.renewal-check-interval:10m}")
    void check() {
        renewDue();
    }

    /** One check: renews what is due; returns what was renewed (empty when nothing was, or it failed). */
    public Set<GatewayCredentials.Renewed> renewDue() {
        if (!time.trusted()) {
            LOG.warn("not renewing the gateway's credentials: the clock is behind the latest recorded time");
            return Set.of();
        }
        try {
            Set<GatewayCredentials.Renewed> renewed = credentials.renewDue();
            if (renewed.contains(GatewayCredentials.Renewed.ADMIN)) {
                admins.recordBootstrap(credentials.adminCertificate());
            }
            if (!renewed.isEmpty()) {
                LOG.info("renewed the gateway's {} certificate(s); next renewal due {}", renewed,
                        credentials.nextRenewal());
            }
            return renewed;
        } catch (Exception e) {
            LOG.warn("renewing the gateway's credentials failed (the current ones stay in use; retrying at the next "
                    + "check): {}", e.toString());
            return Set.of();
        }
    }
}
