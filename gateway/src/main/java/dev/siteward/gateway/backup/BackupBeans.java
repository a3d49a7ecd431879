package dev.siteward.gateway.backup;

import dev.siteward.gateway.server.SitewardConfiguration;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.pki.ca.SiteCa;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;
import java.nio.file.Path;
import java.time.Clock;

/** Wires backups of the running gateway's data dir. */
@Factory
public class BackupBeans {

    @Singleton
    BackupService backupService(SitewardConfiguration config, GatewayStore store, SiteCa ca, Clock clock) {
        return new BackupService(Path.of(config.getDataDir()), store, ca, clock);
    }
}
