package dev.siteward.gateway.admins;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.server.ConnectionTracker;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.IssuedCertificate;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.ca.RegistryEntry;
import dev.siteward.pki.ca.SiteCa;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Adds, lists, renews and revokes admins: each has a name, one role and their own certificate (admin profile, the
 * role recorded with it in the CA registry), never a shared one. Keys are made by whoever asks (the CLI), so only a
 * CSR comes here. Revoking an admin revokes every certificate they hold in the CA registry — which every request
 * checks — and closes their open connections, so it takes effect at once. Renewing issues a new certificate with the
 * same role and revokes the previous ones as superseded. Changes are serialized: one admin change at a time.
 */
public final class AdminDirectory {

    private final GatewayStore store;
    private final SiteCa ca;
    private final ConnectionTracker connections;
    private final Clock clock;

    public AdminDirectory(GatewayStore store, SiteCa ca, ConnectionTracker connections, Clock clock) {
        this.store = store;
        this.ca = ca;
        this.connections = connections;
        this.clock = clock;
    }

    public List<Admin> list() throws StoreException {
        return store.inTransaction(c -> {
            List<Admin> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM admins ORDER BY name");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(read(rs));
                }
            }
            return out;
        });
    }

    public Optional<Admin> find(String name) throws StoreException {
        return store.inTransaction(c -> Optional.ofNullable(load(c, name)));
    }

    public Admin get(String name) throws StoreException, GatewayException {
        return find(name).orElseThrow(() -> new GatewayException(Reason.ADMIN_NOT_FOUND, "unknown admin '" + name
                + "'"));
    }

    /**
     * Adds an admin (or re-adds a revoked one) with a certificate for the key in {@code csrDer}.
     *
     * @param ttl the certificate's lifetime, or null for the admin profile's default (90 days)
     * @param by  who asks, recorded as {@code created_by}
     */
    public synchronized AdminCredential add(String name, AdminRole role, byte[] csrDer, Duration ttl, String by)
            throws GatewayException, StoreException {
        requireName(name);
        if (role == AdminRole.BOOTSTRAP) {
            throw new GatewayException(Reason.BAD_REQUEST, "the bootstrap role belongs to the site's first admin "
                    + "only: use operator, security, publisher-admin or auditor");
        }
        Optional<Admin> existing = find(name);
        if (existing.isPresent() && existing.get().active()) {
            throw new GatewayException(Reason.ADMIN_EXISTS, "admin '" + name + "' exists (role "
                    + existing.get().role() + "); revoke it first or renew it");
        }
        IssuedCertificate issued = issue(name, role, csrDer, ttl);
        Instant now = now();
        Admin admin = new Admin(name, role.text(), Admin.ACTIVE, Certificates.serialHex(issued.certificate()
                .getSerialNumber()), issued.certificate().getNotAfter().toInstant(), now, by, null, null);
        try {
            store.inTransaction(c -> {
                if (existing.isPresent()) {
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM admins WHERE name = ?")) {
                        ps.setString(1, name);
                        ps.executeUpdate();
                    }
                }
                insert(c, admin);
                return null;
            });
        } catch (StoreException e) {
            withdraw(issued.certificate());
            throw e;
        }
        return credential(admin, issued);
    }

    /** Issues a new certificate for an active admin (same role) and revokes their previous ones as superseded. */
    public synchronized AdminCredential renew(String name, byte[] csrDer, Duration ttl, String by)
            throws GatewayException, StoreException {
        Admin admin = get(requireName(name));
        if (!admin.active()) {
            throw new GatewayException(Reason.CONFLICT, "admin '" + name + "' is revoked; add them again instead");
        }
        AdminRole role = AdminRole.find(admin.role()).orElseThrow();
        if (role == AdminRole.BOOTSTRAP) {
            throw new GatewayException(Reason.CONFLICT, "the bootstrap admin's certificate is renewed by the gateway "
                    + "itself (in <data-dir>/admin/)");
        }
        IssuedCertificate issued = issue(name, role, csrDer, ttl);
        Admin renewed = new Admin(name, admin.role(), Admin.ACTIVE, Certificates.serialHex(issued.certificate()
                .getSerialNumber()), issued.certificate().getNotAfter().toInstant(), admin.createdAt(),
                admin.createdBy(), now(), null);
        try {
            store.inTransaction(c -> {
                update(c, renewed);
                return null;
            });
        } catch (StoreException e) {
            withdraw(issued.certificate());
            throw e;
        }
        for (RegistryEntry e : ca.registry().findByName(CertificateProfile.ADMIN, name)) {
            if (!e.revoked() && !e.serial().equals(issued.certificate().getSerialNumber())
                    && e.notAfter().isAfter(clock.instant())) {
                try {
                    ca.revoke(e.serial(), RevocationReason.SUPERSEDED);
                } catch (PkiException ex) {
                    throw new GatewayException(Reason.INTERNAL, "renewed, but the previous certificate "
                            + Certificates.serialHex(e.serial()) + " could not be revoked: " + ex.getMessage(), ex);
                }
            }
        }
        return credential(renewed, issued);
    }

    /** Revokes every certificate of the admin, marks them revoked and closes their connections. */
    public synchronized Admin revoke(String name, RevocationReason reason, String by)
            throws GatewayException, StoreException {
        Admin admin = get(requireName(name));
        if (AdminRole.BOOTSTRAP.text().equals(admin.role())) {
            throw new GatewayException(Reason.CONFLICT, "the bootstrap admin cannot be revoked through the admin API: "
                    + "it is the site's own credential in <data-dir>/admin/ (revoke its serial with 'siteward ca "
                    + "revoke' and restart the gateway to replace it)");
        }
        if (!admin.active()) {
            throw new GatewayException(Reason.CONFLICT, "admin '" + name + "' is already revoked");
        }
        try {
            ca.revokeAll(CertificateProfile.ADMIN, name, reason);
        } catch (PkiException e) {
            if (e.reason() != PkiException.Reason.NOT_FOUND) {
                throw new GatewayException(e.reason().badInput() ? Reason.BAD_REQUEST : Reason.INTERNAL,
                        e.getMessage(), e);
            }
            // every certificate has expired or was revoked already: only the directory needs updating
        }
        Admin revoked = new Admin(admin.name(), admin.role(), Admin.REVOKED, admin.serial(), admin.notAfter(),
                admin.createdAt(), admin.createdBy(), admin.renewedAt(), now());
        store.inTransaction(c -> {
            update(c, revoked);
            return null;
        });
        connections.closeAll("admin/" + name);
        return revoked;
    }

    /**
     * Records the site's first admin (the credential the gateway keeps in {@code <data-dir>/admin/}) with the
     * bootstrap role, or updates its current certificate after the gateway re-issued it.
     */
    public synchronized Admin recordBootstrap(X509Certificate certificate) throws StoreException {
        SpiffeId id = Certificates.spiffeId(certificate);
        String name = id == null ? "admin" : id.name();
        String serial = Certificates.serialHex(certificate.getSerialNumber());
        return store.inTransaction(c -> {
            Admin current = load(c, name);
            if (current != null && current.serial().equals(serial) && current.active()) {
                return current;
            }
            Instant now = now();
            Admin admin = new Admin(name, AdminRole.BOOTSTRAP.text(), Admin.ACTIVE, serial,
                    certificate.getNotAfter().toInstant(), current == null ? now : current.createdAt(),
                    current == null ? "gateway" : current.createdBy(), current == null ? null : now, null);
            if (current == null) {
                insert(c, admin);
            } else {
                update(c, admin);
            }
            return admin;
        });
    }

    private IssuedCertificate issue(String name, AdminRole role, byte[] csrDer, Duration ttl)
            throws GatewayException {
        if (csrDer == null || csrDer.length == 0) {
            throw new GatewayException(Reason.BAD_REQUEST, "a certificate request (CSR) is required");
        }
        try {
            return ca.issue(new IssueRequest(csrDer, CertificateProfile.ADMIN, name, List.of(), List.of(), ttl,
                    role.text()));
        } catch (PkiException e) {
            throw new GatewayException(e.reason().badInput() ? Reason.BAD_REQUEST : Reason.INTERNAL, e.getMessage(),
                    e);
        }
    }

    /** Revokes a certificate that was issued but could not be recorded, so it never works. */
    private void withdraw(X509Certificate certificate) {
        try {
            ca.revoke(certificate.getSerialNumber(), RevocationReason.CESSATION_OF_OPERATION);
        } catch (PkiException ignored) {
            // the admin was not recorded; the caller reports the database failure
        }
    }

    private AdminCredential credential(Admin admin, IssuedCertificate issued) {
        return new AdminCredential(admin, PemCodec.certificates(List.of(issued.certificate(),
                issued.caChain().get(0))), PemCodec.certificates(List.of(ca.root())));
    }

    private static String requireName(String name) throws GatewayException {
        try {
            return SpiffeId.requireName(name, "admin name");
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.BAD_REQUEST, e.getMessage());
        }
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    private static Admin load(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT * FROM admins WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? read(rs) : null;
            }
        }
    }

    private static Admin read(ResultSet rs) throws SQLException {
        return new Admin(rs.getString("name"), rs.getString("role"), rs.getString("status"), rs.getString("serial"),
                instant(rs.getTimestamp("not_after")), instant(rs.getTimestamp("created_at")),
                rs.getString("created_by"), instant(rs.getTimestamp("renewed_at")),
                instant(rs.getTimestamp("revoked_at")));
    }

    private static void insert(Connection c, Admin a) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO admins (name, role, status, serial, not_after, "
                + "created_at, created_by, renewed_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, a.name());
            ps.setString(2, a.role());
            ps.setString(3, a.status());
            ps.setString(4, a.serial());
            ps.setTimestamp(5, ts(a.notAfter()));
            ps.setTimestamp(6, ts(a.createdAt()));
            ps.setString(7, a.createdBy());
            ps.setTimestamp(8, ts(a.renewedAt()));
            ps.setTimestamp(9, ts(a.revokedAt()));
            ps.executeUpdate();
        }
    }

    private static void update(Connection c, Admin a) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE admins SET role = ?, status = ?, serial = ?, "
                + "not_after = ?, renewed_at = ?, revoked_at = ? WHERE name = ?")) {
            ps.setString(1, a.role());
            ps.setString(2, a.status());
            ps.setString(3, a.serial());
            ps.setTimestamp(4, ts(a.notAfter()));
            ps.setTimestamp(5, ts(a.renewedAt()));
            ps.setTimestamp(6, ts(a.revokedAt()));
            ps.setString(7, a.name());
            ps.executeUpdate();
        }
    }

    private static Timestamp ts(Instant i) {
        return i == null ? null : Timestamp.from(i);
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
