package dev.siteward.gateway.retention;

import dev.siteward.gateway.audit.AuditLog;
import dev.siteward.gateway.authorization.PolicyService;
import dev.siteward.gateway.devices.Device;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.server.SitewardConfiguration;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.time.TimeGuard;
import dev.siteward.policies.PolicySet;
import dev.siteward.policies.retention.RetentionRules;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.exceptions.ConfigurationException;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Wires retention: the rules come from the active signed policy bundle (none active: nothing stored, nothing
 * deleted), the minimisation key from the data dir, the limits from {@code siteward.retention.*}.
 */
@Factory
public class RetentionBeans {

    @Singleton
    RetentionSettings retentionSettings(@Value("${siteward.retention.purge-batch:1000}") int batch,
                                        @Value("${siteward.retention.max-blob-bytes:8388608}") long maxBlob,
                                        @Value("${siteward.retention.max-blob-size:-1}") long oldMaxBlob,
                                        @Value("${siteward.retention.max-record-size:65536}") long maxRecord,
                                        @Value("${siteward.retention.purge-interval:10m}") Duration interval) {
        try {
            // max-blob-size: the key's earlier name (then capped at 1 MiB), still honoured when set alone
            return new RetentionSettings(batch, oldMaxBlob > 0 && maxBlob == RetentionSettings.DEFAULT_MAX_BLOB_BYTES
                    ? oldMaxBlob : maxBlob, maxRecord, interval);
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException(e.getMessage(), e);
        }
    }

    /** The retention rules of the active bundle, read at each use (a new bundle applies at once). */
    static Supplier<RetentionRules> rules(PolicyService policies) {
        return () -> policies.activeSet().map(PolicySet::retention).orElse(RetentionRules.NONE);
    }

    @Singleton
    MinimisationKey minimisationKey(SitewardConfiguration config) {
        try {
            return MinimisationKey.ensure(Path.of(config.getDataDir()));
        } catch (IOException e) {
            throw new ConfigurationException("cannot set up the minimisation key: " + e.getMessage(), e);
        }
    }

    @Singleton
    DataRecords dataRecords(GatewayStore store, PolicyService policies, MinimisationKey key, Clock clock,
                            RetentionSettings settings) {
        return new DataRecords(store, rules(policies), key, clock, settings);
    }

    @Singleton
    DataExport dataExport(GatewayStore store, PolicyService policies) {
        return new DataExport(store, rules(policies));
    }

    @Singleton
    RetentionReport retentionReport(GatewayStore store, PolicyService policies, TimeGuard guard, Clock clock) {
        return new RetentionReport(store, rules(policies), RetentionServices.clockTrust(guard), clock);
    }

    @Singleton
    RetentionPurge retentionPurge(GatewayStore store, PolicyService policies, DeviceRegistry devices, AuditLog audit,
                                  TimeGuard guard, Clock clock, RetentionSettings settings) {
        return new RetentionPurge(store, rules(policies), () -> {
            Map<String, Map<String, String>> m = new HashMap<>();
            for (Device d : devices.list()) {
                m.put(d.id(), d.labels());
            }
            return m;
        }, audit, RetentionServices.clockTrust(guard), clock, settings.purgeBatch());
    }
}
