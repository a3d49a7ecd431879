package dev.siteward.gateway.models;

import dev.siteward.gateway.devices.Device;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.server.SitewardConfiguration;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.ca.SiteCa;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.exceptions.ConfigurationException;
import io.micronaut.scheduling.annotation.Scheduled;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.Map;

/** Wires the model release repository: blob store, repository, release key and metadata signer. */
@Factory
public class ModelBeans {

    @Singleton
    BlobStore blobStore(SitewardConfiguration config) {
        try {
            BlobStore blobs = new BlobStore(dataDir(config));
            blobs.clearStaging();
            return blobs;
        } catch (IOException e) {
            throw new ConfigurationException("cannot set up the model store: " + e.getMessage(), e);
        }
    }

    @Singleton
    ModelRepository modelRepository(GatewayStore store, BlobStore blobs, SitewardConfiguration config,
                                    ModelsConfiguration models, Clock clock) {
        if (models.getMaxFileSize() <= 0) {
            throw new ConfigurationException("siteward.models.max-file-size must be positive");
        }
        return new ModelRepository(store, blobs, dataDir(config), clock, models.getMaxFileSize());
    }

    @Context
    ReleaseKey releaseKey(SitewardConfiguration config, SiteCa ca, Clock clock) {
        try {
            return ReleaseKey.ensure(dataDir(config), ca, clock);
        } catch (IOException | PkiException | GeneralSecurityException e) {
            throw new ConfigurationException("cannot set up the release key: " + e.getMessage(), e);
        }
    }

    @Singleton
    ReleaseMetadata releaseMetadata(GatewayStore store, ModelRepository repository, ReleaseKey key,
                                    DeviceRegistry devices, ModelsConfiguration models, Clock clock) {
        if (models.getMetadataValidity() == null || models.getMetadataValidity().toMinutes() < 2) {
            throw new ConfigurationException("siteward.models.metadata-validity must be at least 2 minutes");
        }
        return new ReleaseMetadata(store, repository, key,
                id -> devices.find(id).map(Device::labels).orElse(Map.of()), clock, models.getMetadataValidity());
    }

    /** Renews the release certificate in the background as well as before signing. */
    @Singleton
    static class ReleaseKeyRenewal {
        private final ReleaseKey key;

        ReleaseKeyRenewal(ReleaseKey key) {
            this.key = key;
        }

        @Scheduled(fixedDelay = "1h", initialDelay = "1h")
        void renew() {
            key.renewIfDue();
        }
    }

    static Path dataDir(SitewardConfiguration config) {
        if (config.getDataDir() == null || config.getDataDir().isBlank()) {
            throw new ConfigurationException("siteward.data-dir is not set");
        }
        return Path.of(config.getDataDir());
    }
}
