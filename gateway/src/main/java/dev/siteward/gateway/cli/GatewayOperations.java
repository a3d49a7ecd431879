package dev.siteward.gateway.cli;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.admins.Admin;
import dev.siteward.gateway.admins.AdminCredential;
import dev.siteward.gateway.audit.AuditVerification;
import dev.siteward.gateway.devices.Device;
import dev.siteward.gateway.lifecycle.ExpiryWatch;
import dev.siteward.gateway.store.StoreException;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What the CLI's state-changing commands do, either directly on the data dir ({@link LocalOperations}) or, while
 * {@code siteward serve} holds the data dir, through the running gateway's admin API ({@link RemoteOperations}).
 * Revocation results are maps with serial, profile, name, reason, revokedAt.
 */
interface GatewayOperations extends AutoCloseable {

    String createToken(String deviceId, Map<String, String> labels, Duration ttl) throws Exception;

    List<Device> listDevices() throws Exception;

    Device showDevice(String id) throws Exception;

    Device register(String id, String idevidSerial, Map<String, String> labels) throws Exception;

    Device label(String id, Map<String, String> labels) throws Exception;

    Device suspend(String id) throws Exception;

    Device resume(String id) throws Exception;

    List<Map<String, String>> revokeDevice(String id, String reason) throws Exception;

    Map<String, String> revokeSerial(String serial, String reason) throws Exception;

    List<Admin> listAdmins() throws Exception;

    AdminCredential addAdmin(String name, String role, byte[] csrDer, Duration ttl) throws Exception;

    AdminCredential renewAdmin(String name, byte[] csrDer, Duration ttl) throws Exception;

    Admin revokeAdmin(String name, String reason) throws Exception;

    ExpiryWatch.Report status(Duration window) throws Exception;

    dev.siteward.gateway.time.TimeGuard.Status timeStatus() throws Exception;

    dev.siteward.gateway.time.TimeGuard.Status acceptTime() throws Exception;
    /** Verifies the audit log: its chain, checkpoints and head file. */
    AuditVerification verifyAudit() throws Exception;

    /** Writes the audit records from {@code since} on, with their checkpoints and head, as NDJSON. */
    long exportAudit(Instant since, OutputStream out) throws Exception;

    /** Writes an encrypted backup of the data dir to {@code file} (which the caller then verifies and renames). */
    void backup(java.nio.file.Path file, char[] passphrase) throws Exception;
    /** Writes what the retention rules let leave the site of a class since {@code since}, as NDJSON. */
    long exportData(String dataClass, Instant since, OutputStream out) throws Exception;

    /** Per class: records, bytes, oldest record, next purge, holds, last purge. */
    dev.siteward.gateway.retention.RetentionReport.Report retentionReport() throws Exception;

    /**
     * The URL named admins on other machines reach this gateway at ({@code https://<advertised host>:<device port>}),
     * for {@code admin add --out} to put in the bundle; null when not known.
     */
    default String gatewayUrl() {
        return null;
    }

    @Override
    void close();

    /** Opens the right implementation for the data dir: remote when a gateway holds it, else local. */
    static GatewayOperations open(DataDir dataDir, CaCommand.KeyOptions keys) {
        if (dataDir.remoteGateway() != null) {
            return RemoteOperations.connect(dataDir);
        }
        DataDir.Lock lock;
        try {
            lock = dataDir.lock();
        } catch (CliException held) {
            if (held.exitCode() != CliException.UNREACHABLE) {
                throw held;
            }
            return RemoteOperations.connect(dataDir);
        }
        try {
            return new LocalOperations(dataDir.path(), keys.secrets(), lock);
        } catch (StoreException e) {
            lock.close();
            throw new CliException(CliException.INTERNAL, e.getMessage(), e);
        } catch (GatewayException e) {
            lock.close();
            throw new CliException(CliException.BAD_INPUT, e.getMessage(), e);
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
    }
}
