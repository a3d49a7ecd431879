package dev.siteward.gateway.cli;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.admin.AdminController;
import dev.siteward.gateway.admins.Admin;
import dev.siteward.gateway.admins.AdminCredential;
import dev.siteward.gateway.admins.AdminDirectory;
import dev.siteward.gateway.admins.AdminRole;
import dev.siteward.gateway.audit.AuditEvent;
import dev.siteward.gateway.audit.AuditKey;
import dev.siteward.gateway.audit.AuditLog;
import dev.siteward.gateway.audit.AuditSettings;
import dev.siteward.gateway.audit.AuditVerification;
import dev.siteward.gateway.store.DatabaseSettings;
import dev.siteward.gateway.devices.Device;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.lifecycle.ExpiryWatch;
import dev.siteward.gateway.time.TimeGuard;
import dev.siteward.gateway.time.TimeRecord;
import dev.siteward.gateway.enrollment.EnrollmentTokens;
import dev.siteward.gateway.revocation.RevocationService;
import dev.siteward.gateway.server.ConnectionTracker;
import dev.siteward.gateway.server.GatewayCredentials;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.ca.CaSecrets;
import dev.siteward.pki.ca.SiteCa;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The CLI's operations acting on the data dir directly (no gateway running), holding its lock. */
final class LocalOperations implements GatewayOperations {

    private final Path dataDir;
    private final CaSecrets secrets;
    private final DataDir.Lock lock;
    private final Clock clock = Clock.systemUTC();
    private final GatewayStore store;
    private final DeviceRegistry devices;
    private final SiteCa ca;
    private final AuditLog audit;

    /** The URL of the last run's device listener as advertised ({@code gateway/endpoints.json}), if known. */
    @Override
    public String gatewayUrl() {
        return RemoteOperations.advertisedUrl(dataDir);
    }

    LocalOperations(Path dataDir, CaSecrets secrets, DataDir.Lock lock) throws StoreException, GatewayException {
        this.dataDir = dataDir;
        this.secrets = secrets;
        this.lock = lock;
        if (!SiteCa.exists(dataDir)) {
            throw new GatewayException(Reason.BAD_REQUEST, "no site CA in " + dataDir
                    + ": run 'siteward serve' or 'siteward ca init' first");
        }
        try {
            this.ca = SiteCa.open(dataDir, secrets, clock);
        } catch (PkiException e) {
            throw new GatewayException(Reason.BAD_REQUEST, e.getMessage(), e);
        }
        this.store = GatewayStore.open(dataDir, DatabaseSettings.resolve(dataDir));
        this.devices = new DeviceRegistry(store, ca.registry(), clock);
        this.audit = auditLog(dataDir, store, ca, clock);
    }

    private static AuditLog auditLog(Path dataDir, GatewayStore store, SiteCa ca, Clock clock) {
        return new AuditLog(store, dataDir, clock, AuditSettings.defaults(), () -> AuditKey.ensure(dataDir, ca, clock),
                ca.root());
    }

    /** Records an event of a command that changed the stopped gateway's data dir (e.g. a local CA rotation). */
    static void audit(Path dataDir, SiteCa ca, AuditEvent event) throws StoreException {
        try (GatewayStore store = GatewayStore.open(dataDir, DatabaseSettings.resolve(dataDir));
             AuditLog log = auditLog(dataDir, store, ca, Clock.systemUTC())) {
            log.append(event);
        }
    }

    private SiteCa ca() {
        return ca;
    }

    private RevocationService revocation() {
        return new RevocationService(ca(), devices, new ConnectionTracker(), clock, audit);
    }

    @Override
    public String createToken(String deviceId, Map<String, String> labels, Duration ttl) throws Exception {
        requireTrustedClock();
        KeyPair key = GatewayCredentials.tokenKey(dataDir);
        EnrollmentTokens tokens = new EnrollmentTokens(store, clock, (ECPrivateKey) key.getPrivate(),
                (ECPublicKey) key.getPublic(), GatewayCredentials.keyId(key), Certificates.fingerprint(ca().root()));
        return tokens.create(deviceId, labels, ttl);
    }

    @Override
    public List<Device> listDevices() throws Exception {
        return devices.list();
    }

    @Override
    public Device showDevice(String id) throws Exception {
        return devices.get(id);
    }

    @Override
    public Device register(String id, String idevidSerial, Map<String, String> labels) throws Exception {
        return devices.register(id, idevidSerial, labels);
    }

    @Override
    public Device label(String id, Map<String, String> labels) throws Exception {
        return devices.label(id, labels);
    }

    @Override
    public Device suspend(String id) throws Exception {
        return revocation().suspend(id);
    }

    @Override
    public Device resume(String id) throws Exception {
        return revocation().resume(id);
    }

    @Override
    public List<Map<String, String>> revokeDevice(String id, String reason) throws Exception {
        ca().unlock();
        return revocation().revokeDevice(id, RevocationReason.parse(reason)).stream().map(AdminController::revoked)
                .toList();
    }

    @Override
    public Map<String, String> revokeSerial(String serial, String reason) throws Exception {
        ca().unlock();
        return AdminController.revoked(revocation().revokeSerial(Certificates.parseSerial(serial),
                RevocationReason.parse(reason)));
    }

    /** The admin directory, with the bootstrap admin of {@code <data-dir>/admin/} recorded (once a gateway ran). */
    private AdminDirectory admins() throws Exception {
        AdminDirectory admins = new AdminDirectory(store, ca, new ConnectionTracker(), clock);
        java.nio.file.Path pem = dataDir.resolve("admin/admin.pem");
        if (java.nio.file.Files.exists(pem)) {
            admins.recordBootstrap(dev.siteward.pki.PemCodec.parseCertificates(java.nio.file.Files.readString(pem))
                    .get(0));
        }
        return admins;
    }

    private static String localUser() {
        String user = System.getProperty("user.name", "unknown").replaceAll("[^A-Za-z0-9._-]", "_");
        return "local:" + (user.length() > 50 ? user.substring(0, 50) : user);
    }

    @Override
    public List<Admin> listAdmins() throws Exception {
        return admins().list();
    }

    @Override
    public AdminCredential addAdmin(String name, String role, byte[] csrDer, Duration ttl) throws Exception {
        requireTrustedClock();
        AdminDirectory admins = admins();
        ca().unlock();
        return admins.add(name, AdminRole.parseAssignable(role), csrDer, ttl, localUser());
    }

    @Override
    public AdminCredential renewAdmin(String name, byte[] csrDer, Duration ttl) throws Exception {
        requireTrustedClock();
        AdminDirectory admins = admins();
        ca().unlock();
        return admins.renew(name, csrDer, ttl, localUser());
    }

    @Override
    public Admin revokeAdmin(String name, String reason) throws Exception {
        AdminDirectory admins = admins();
        ca().unlock();
        return admins.revoke(name, RevocationReason.parse(reason), localUser());
    }

    @Override
    public ExpiryWatch.Report status(Duration window) throws Exception {
        java.nio.file.Path pem = dataDir.resolve("gateway/server.pem");
        java.security.cert.X509Certificate server = java.nio.file.Files.exists(pem)
                ? dev.siteward.pki.PemCodec.parseCertificates(java.nio.file.Files.readString(pem)).get(0) : null;
        return new ExpiryWatch(ca, admins(), devices, () -> server, clock, dataDir).report(window);
    }

    @Override
    public TimeGuard.Status timeStatus() throws Exception {
        TimeRecord r = TimeRecord.read(dataDir);
        java.time.Instant now = clock.instant();
        boolean trusted = r == null || !now.isBefore(r.latest().minus(TimeGuard.DEFAULT_TOLERANCE));
        return new TimeGuard.Status(now, r == null ? null : r.latest(), trusted, null, null,
                r == null ? null : r.acceptedAt(), r == null ? null : r.acceptedBy(), "5m");
    }

    @Override
    public TimeGuard.Status acceptTime() throws Exception {
        TimeGuard.acceptOffline(dataDir, clock, localUser());
        return timeStatus();
    }

    @Override
    public void backup(java.nio.file.Path file, char[] passphrase) throws Exception {
        try (java.io.OutputStream out = java.nio.file.Files.newOutputStream(file)) {
            new dev.siteward.gateway.backup.BackupService(dataDir, store, ca, clock).backup(out, passphrase);
        }
    }

    /** Refuses to issue or hand out expiring credentials on a clock behind the gateway's recorded time. */
    private void requireTrustedClock() throws Exception {
        requireTrustedClock(dataDir, clock);
    }

    /** Exit 1 when the clock is behind the time the data dir's gateway recorded (trusted time). */
    static void requireTrustedClock(Path dataDir, Clock clock) throws java.io.IOException {
        TimeRecord r = TimeRecord.read(dataDir);
        if (r != null) {
            try {
                TimeGuard.checkNotBehind(r, clock.instant(), TimeGuard.DEFAULT_TOLERANCE);
            } catch (GatewayException e) {
                throw new CliException(CliException.CHECK_FAILED, "refusing to act: " + e.getMessage(), e);
            }
        }
    }

    @Override
    public AuditVerification verifyAudit() throws Exception {
        return audit.verify();
    }

    @Override
    public long exportAudit(Instant since, OutputStream out) throws Exception {
        return audit.export(since, out);
    }

    @Override
    public long exportData(String dataClass, Instant since, OutputStream out) throws Exception {
        return new dev.siteward.gateway.retention.DataExport(store, retentionRules()).export(dataClass, since, out);
    }

    @Override
    public dev.siteward.gateway.retention.RetentionReport.Report retentionReport() throws Exception {
        TimeGuard.Status time = timeStatus();
        dev.siteward.gateway.retention.RetentionPurge.ClockTrust trust = () -> time.trusted()
                ? java.util.Optional.empty()
                : java.util.Optional.of("the clock is behind the latest recorded time; nothing is deleted");
        return new dev.siteward.gateway.retention.RetentionReport(store, retentionRules(), trust, clock).report();
    }

    /** The retention rules of the data dir's active policy bundle (re-verified), or none. */
    private java.util.function.Supplier<dev.siteward.policies.retention.RetentionRules> retentionRules()
            throws java.io.IOException {
        dev.siteward.gateway.authorization.PolicyService policies = new dev.siteward.gateway.authorization
                .PolicyService(dataDir, dev.siteward.gateway.authorization.AuthorizationBeans.policyRoots(dataDir),
                clock);
        dev.siteward.policies.retention.RetentionRules rules = policies.activeSet()
                .map(dev.siteward.policies.PolicySet::retention)
                .orElse(dev.siteward.policies.retention.RetentionRules.NONE);
        return () -> rules;
    }

    @Override
    public void close() {
        audit.close();
        try {
            ca.close();
        } catch (PkiException ignored) {
            // the journal is fsynced per write; closing loses nothing
        }
        store.close();
        lock.close();
    }
}
