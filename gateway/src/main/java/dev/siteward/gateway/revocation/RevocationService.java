package dev.siteward.gateway.revocation;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.audit.AuditActor;
import dev.siteward.gateway.audit.AuditEvent;
import dev.siteward.gateway.audit.AuditTrail;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.devices.Device;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.devices.DeviceStatus;
import dev.siteward.gateway.server.ConnectionTracker;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.ca.RegistryEntry;
import dev.siteward.pki.ca.SiteCa;
import java.math.BigInteger;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * Revocation and suspension with immediate effect: the CA records the revocation (durably) and regenerates its CRL,
 * the device registry marks the device, and the device's open connections are closed — no restart, no waiting for
 * a CRL refresh. Order matters: the revocation is recorded before connections are cut, so a reconnect is refused.
 */
public final class RevocationService {

    private final SiteCa ca;
    private final DeviceRegistry devices;
    private final ConnectionTracker connections;
    private final Clock clock;
    private final AuditTrail audit;

    public RevocationService(SiteCa ca, DeviceRegistry devices, ConnectionTracker connections, Clock clock) {
        this(ca, devices, connections, clock, AuditTrail.NONE);
    }

    /** As above, recording revocations, suspensions and resumptions in the audit trail. */
    public RevocationService(SiteCa ca, DeviceRegistry devices, ConnectionTracker connections, Clock clock,
                             AuditTrail audit) {
        this.audit = audit;
        this.ca = ca;
        this.devices = devices;
        this.connections = connections;
        this.clock = clock;
    }

    /** Revokes every current certificate of the device and marks it revoked; returns the revoked certificates. */
    public List<RegistryEntry> revokeDevice(String id, RevocationReason reason)
            throws GatewayException, StoreException {
        Device device = devices.find(id).orElse(null);
        List<RegistryEntry> revoked = new ArrayList<>();
        try {
            revoked.addAll(ca.revokeAll(CertificateProfile.DEVICE, id, reason));
        } catch (PkiException e) {
            if (e.reason() != PkiException.Reason.NOT_FOUND || device == null) {
                throw translate(e);
            }
        }
        if (device != null) {
            devices.setStatus(id, DeviceStatus.REVOKED);
        }
        connections.closeAll("device/" + id);
        audit.record(AuditEvent.of(AuditEvent.REVOCATION).actor(actor()).subject("device/" + id)
                .detail("action", "revoke-device").detail("reason", reason.rfcName())
                .detail("serials", revoked.stream().map(e -> Certificates.serialHex(e.serial())).toList()).build());
        return revoked;
    }

    /** Revokes one certificate by serial; a device's connections are closed when it was one of its certificates. */
    public RegistryEntry revokeSerial(BigInteger serial, RevocationReason reason)
            throws GatewayException, StoreException {
        RegistryEntry entry;
        try {
            entry = ca.revoke(serial, reason);
        } catch (PkiException e) {
            throw translate(e);
        }
        if (entry.profile() != null) {
            connections.closeAll(entry.profile().cliName() + "/" + entry.name());
        }
        audit.record(AuditEvent.of(AuditEvent.REVOCATION).actor(actor()).subject("certificate/"
                + Certificates.serialHex(serial)).detail("action", "revoke-certificate")
                .detail("reason", reason.rfcName()).detail("holder", entry.profile() == null ? "ca/" + entry.name()
                        : entry.profile().cliName() + "/" + entry.name()).build());
        return entry;
    }

    /** Suspends a device: its requests and handshakes are refused and its connections closed until resumed. */
    public Device suspend(String id) throws GatewayException, StoreException {
        Device d = devices.get(id);
        if (d.status() == DeviceStatus.REVOKED) {
            throw new GatewayException(Reason.CONFLICT, "device '" + id + "' is revoked");
        }
        Device updated = devices.setStatus(id, DeviceStatus.SUSPENDED);
        connections.closeAll("device/" + id);
        audit.record(AuditEvent.of(AuditEvent.REVOCATION).actor(actor()).subject("device/" + id)
                .detail("action", "suspend").build());
        return updated;
    }

    /** Lifts a suspension. */
    public Device resume(String id) throws GatewayException, StoreException {
        Device d = devices.get(id);
        if (d.status() != DeviceStatus.SUSPENDED) {
            throw new GatewayException(Reason.CONFLICT, "device '" + id + "' is not suspended");
        }
        Device resumed = devices.setStatus(id, d.enrolledAt() == null ? DeviceStatus.REGISTERED
                : DeviceStatus.ACTIVE);
        audit.record(AuditEvent.of(AuditEvent.REVOCATION).actor(actor()).subject("device/" + id)
                .detail("action", "resume").build());
        return resumed;
    }

    /** The admin acting through the admin API on this thread, else whoever runs the CLI locally. */
    private static String actor() {
        return AuditActor.current();
    }

    static GatewayException translate(PkiException e) {
        Reason r = switch (e.reason()) {
            case NOT_FOUND -> Reason.DEVICE_NOT_FOUND;
            case ALREADY_REVOKED -> Reason.CONFLICT;
            default -> e.reason().badInput() ? Reason.BAD_REQUEST : Reason.INTERNAL;
        };
        return new GatewayException(r, e.getMessage(), e);
    }
}
