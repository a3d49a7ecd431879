package dev.siteward.gateway.devices;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.ca.CertificateRegistry;
import dev.siteward.pki.ca.RegistryEntry;
import dev.siteward.pki.SpiffeId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The device registry: ids, labels, status, factory-certificate bindings and issued certificates, in the gateway's
 * database. Status is cached in memory (every write goes through this class) so the per-request check costs no
 * database round trip.
 */
public final class DeviceRegistry {

    /** How often {@link #touch} writes a device's last-seen time at most. */
    static final Duration TOUCH_INTERVAL = Duration.ofSeconds(60);

    private final GatewayStore store;
    private final CertificateRegistry certificates;
    private final Clock clock;
    private final Map<String, DeviceStatus> statusCache = new ConcurrentHashMap<>();
    private final Map<String, Instant> lastTouch = new ConcurrentHashMap<>();

    /**
     * @param certificates the CA's issued-certificate registry: the one record of device certificates and their
     *                     revocation, which this registry reads rather than copies
     */
    public DeviceRegistry(GatewayStore store, CertificateRegistry certificates, Clock clock) {
        this.store = store;
        this.certificates = certificates;
        this.clock = clock;
    }

    public Optional<Device> find(String id) throws StoreException {
        return store.inTransaction(c -> Optional.ofNullable(load(c, id)));
    }

    /** The device as seen inside the caller's transaction, or null. */
    public Device find(Connection c, String id) throws SQLException {
        return load(c, id);
    }

    /**
     * The labels of the devices the registry knows, by id (unknown ids are left out), read inside the caller's
     * transaction: one light query per device, without the certificates {@link #find} reads too (the inference
     * service re-reads the release targets of every busy device every few seconds, and needs only these).
     */
    public Map<String, Map<String, String>> labels(Connection c, Collection<String> ids) throws SQLException {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT labels FROM devices WHERE id = ?")) {
            for (String id : ids) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        out.put(id, Labels.fromJson(rs.getString(1)));
                    }
                }
            }
        }
        return out;
    }

    /** The device, or DEVICE_NOT_FOUND. */
    public Device get(String id) throws StoreException, GatewayException {
        return find(id).orElseThrow(() -> new GatewayException(Reason.DEVICE_NOT_FOUND, "unknown device '" + id + "'"));
    }

    public List<Device> list() throws StoreException {
        return store.inTransaction(c -> {
            List<String> ids = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM devices ORDER BY id")) {
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getString(1));
                    }
                }
            }
            List<Device> out = new ArrayList<>();
            for (String id : ids) {
                out.add(load(c, id));
            }
            return out;
        });
    }

    /** The device's status, or null when the registry does not know it. */
    public DeviceStatus status(String id) throws StoreException {
        DeviceStatus cached = statusCache.get(id);
        if (cached != null) {
            return cached;
        }
        DeviceStatus s = store.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT status FROM devices WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? DeviceStatus.fromDb(rs.getString(1)) : null;
                }
            }
        });
        if (s != null) {
            statusCache.put(id, s);
        }
        return s;
    }

    /** Pre-registers a device for factory-certificate enrollment, allowing the factory certificate with this serial. */
    public Device register(String id, String idevidSerial, Map<String, String> labels)
            throws StoreException, GatewayException {
        SpiffeId.requireName(id, "device id");
        Labels.validate(labels);
        String serial = idevidSerial == null ? null : Certificates.parseSerial(idevidSerial).toString(16);
        boolean created = store.inTransaction(c -> {
            if (load(c, id) != null) {
                return false;
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO devices (id, status, labels, registered, "
                    + "idevid_serial, created_at) VALUES (?, ?, ?, TRUE, ?, ?)")) {
                ps.setString(1, id);
                ps.setString(2, DeviceStatus.REGISTERED.dbName());
                ps.setString(3, Labels.toJson(labels));
                ps.setString(4, serial);
                ps.setTimestamp(5, Timestamp.from(clock.instant()));
                ps.executeUpdate();
            }
            return true;
        });
        if (!created) {
            throw new GatewayException(Reason.DEVICE_EXISTS, "device '" + id + "' is already in the registry");
        }
        statusCache.put(id, DeviceStatus.REGISTERED);
        return get(id);
    }

    /** Sets (or, with an empty value, removes) labels on a device. */
    public Device label(String id, Map<String, String> changes) throws StoreException, GatewayException {
        Device d = get(id);
        Map<String, String> labels = new TreeMap<>(d.labels());
        for (var e : changes.entrySet()) {
            if (e.getValue().isEmpty()) {
                labels.remove(e.getKey());
            } else {
                labels.put(e.getKey(), e.getValue());
            }
        }
        Labels.validate(labels);
        store.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE devices SET labels = ? WHERE id = ?")) {
                ps.setString(1, Labels.toJson(labels));
                ps.setString(2, id);
                return ps.executeUpdate();
            }
        });
        return get(id);
    }

    /** Changes a device's status (suspend, resume, revoke). */
    public Device setStatus(String id, DeviceStatus status) throws StoreException, GatewayException {
        int n = store.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE devices SET status = ? WHERE id = ?")) {
                ps.setString(1, status.dbName());
                ps.setString(2, id);
                return ps.executeUpdate();
            }
        });
        if (n == 0) {
            throw new GatewayException(Reason.DEVICE_NOT_FOUND, "unknown device '" + id + "'");
        }
        statusCache.put(id, status);
        return get(id);
    }

    /**
     * Records an enrollment inside the caller's transaction: creates the device if new (active, with the given
     * labels added), sets its enrollment time and makes it active unless it is suspended. The certificate itself is
     * already in the CA's registry.
     */
    public void recordEnrollment(Connection c, String id, Map<String, String> newLabels, String idevidIssuer,
                                 String idevidSerial) throws SQLException {
        Instant now = clock.instant();
        Device existing = load(c, id);
        if (existing == null) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO devices (id, status, labels, registered, "
                    + "idevid_issuer, idevid_serial, created_at, enrolled_at) VALUES (?, ?, ?, FALSE, ?, ?, ?, ?)")) {
                ps.setString(1, id);
                ps.setString(2, DeviceStatus.ACTIVE.dbName());
                ps.setString(3, Labels.toJson(newLabels));
                ps.setString(4, idevidIssuer);
                ps.setString(5, idevidSerial);
                ps.setTimestamp(6, Timestamp.from(now));
                ps.setTimestamp(7, Timestamp.from(now));
                ps.executeUpdate();
            }
        } else {
            Map<String, String> labels = new TreeMap<>(existing.labels());
            labels.putAll(newLabels);
            DeviceStatus status = existing.status() == DeviceStatus.SUSPENDED ? DeviceStatus.SUSPENDED
                    : DeviceStatus.ACTIVE;
            try (PreparedStatement ps = c.prepareStatement("UPDATE devices SET status = ?, labels = ?, enrolled_at = ?, "
                    + "idevid_issuer = COALESCE(idevid_issuer, ?), idevid_serial = COALESCE(idevid_serial, ?) "
                    + "WHERE id = ?")) {
                ps.setString(1, status.dbName());
                ps.setString(2, Labels.toJson(labels));
                ps.setTimestamp(3, Timestamp.from(now));
                ps.setString(4, idevidIssuer);
                ps.setString(5, idevidSerial);
                ps.setString(6, id);
                ps.executeUpdate();
            }
        }
    }

    /** Forgets cached statuses of devices this transaction touched; called after it commits. */
    public void invalidate(String id) {
        statusCache.remove(id);
    }

    /**
     * Records that the device was seen now, at most once per {@link #TOUCH_INTERVAL}. The write happens on a
     * background thread (requests call this on the network event loop); when the queue is full the update is
     * dropped — last-seen is informational and the next request records it again.
     */
    public void touch(String id) {
        Instant now = clock.instant();
        Instant last = lastTouch.get(id);
        if (last != null && Duration.between(last, now).compareTo(TOUCH_INTERVAL) < 0) {
            return;
        }
        lastTouch.put(id, now);
        try {
            touchWriter.execute(() -> {
                try {
                    store.inTransaction(c -> {
                        try (PreparedStatement ps = c.prepareStatement(
                                "UPDATE devices SET last_seen_at = ? WHERE id = ?")) {
                            ps.setTimestamp(1, Timestamp.from(now));
                            ps.setString(2, id);
                            return ps.executeUpdate();
                        }
                    });
                } catch (StoreException e) {
                    lastTouch.remove(id);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            lastTouch.remove(id);
        }
    }

    /** One daemon thread with a bounded queue for last-seen writes. */
    private final java.util.concurrent.ExecutorService touchWriter = new java.util.concurrent.ThreadPoolExecutor(1, 1,
            0, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.ArrayBlockingQueue<>(1024), r -> {
                Thread t = new Thread(r, "siteward-last-seen");
                t.setDaemon(true);
                return t;
            }, new java.util.concurrent.ThreadPoolExecutor.AbortPolicy());

    public static String spkiSha256(byte[] spkiDer) {
        return HexFormat.of().formatHex(Certificates.sha256(spkiDer));
    }

    /** The DER of a certificate the CA issued, from its registry, or null. */
    public byte[] certificateDer(String serialHex) {
        return certificates.find(Certificates.parseSerial(serialHex)).map(RegistryEntry::der).orElse(null);
    }

    private Device load(Connection c, String id) throws SQLException {
        Device d;
        try (PreparedStatement ps = c.prepareStatement("SELECT id, status, labels, registered, idevid_issuer, "
                + "idevid_serial, created_at, enrolled_at, last_seen_at FROM devices WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                d = new Device(rs.getString(1), DeviceStatus.fromDb(rs.getString(2)), Labels.fromJson(rs.getString(3)),
                        rs.getBoolean(4), rs.getString(5), rs.getString(6), instant(rs.getTimestamp(7)),
                        instant(rs.getTimestamp(8)), instant(rs.getTimestamp(9)), List.of());
            }
        }
        List<DeviceCertificate> certs = new ArrayList<>();
        for (RegistryEntry e : certificates.findByName(CertificateProfile.DEVICE, id)) {
            certs.add(0, new DeviceCertificate(Certificates.serialHex(e.serial()), e.notBefore(), e.notAfter(),
                    e.revokedAt(), e.reason() == null ? null : e.reason().rfcName()));
        }
        return new Device(d.id(), d.status(), d.labels(), d.registered(), d.idevidIssuer(), d.idevidSerial(),
                d.createdAt(), d.enrolledAt(), d.lastSeenAt(), List.copyOf(certs));
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
