package dev.siteward.gateway.enrollment;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.audit.AuditEvent;
import dev.siteward.gateway.audit.AuditTrail;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.devices.Device;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.devices.DeviceStatus;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.IssuedCertificate;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.ca.SiteCa;
import dev.siteward.pki.csr.CsrValidator;
import dev.siteward.pki.csr.ValidatedCsr;
import dev.siteward.gateway.authentication.ClientCertificateVerifier;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * EST enrollment (RFC 7030 sections 4.2.1 and 4.2.2): decides who may get which device certificate. A CSR is
 * checked before anything is consumed; the subject is decided by the token, the factory certificate or the current
 * certificate, never by the CSR.
 */
public final class EnrollmentService {

    private final SiteCa ca;
    private final GatewayStore store;
    private final DeviceRegistry devices;
    private final EnrollmentTokens tokens;
    private final IdevidPolicy idevid;
    private final ClientCertificateVerifier verifier;
    private final Clock clock;
    private final AuditTrail audit;

    public EnrollmentService(SiteCa ca, GatewayStore store, DeviceRegistry devices, EnrollmentTokens tokens,
                             IdevidPolicy idevid, ClientCertificateVerifier verifier, Clock clock) {
        this(ca, store, devices, tokens, idevid, verifier, clock, AuditTrail.NONE);
    }

    /** As above, recording every issued device certificate (enrollment, renewal) in the audit trail. */
    public EnrollmentService(SiteCa ca, GatewayStore store, DeviceRegistry devices, EnrollmentTokens tokens,
                             IdevidPolicy idevid, ClientCertificateVerifier verifier, Clock clock, AuditTrail audit) {
        this.audit = audit;
        this.ca = ca;
        this.store = store;
        this.devices = devices;
        this.tokens = tokens;
        this.idevid = idevid;
        this.verifier = verifier;
        this.clock = clock;
    }

    /** {@code simpleenroll} with a one-time token. */
    public List<X509Certificate> enrollWithToken(byte[] csrDer, String token)
            throws GatewayException, StoreException {
        ValidatedCsr csr = validate(csrDer);
        TokenClaims claims = tokens.verify(token);
        requireSameDevice(csr, claims.deviceId());
        String spki = DeviceRegistry.spkiSha256(csr.spkiDer());
        EnrollmentTokens.Consumption consumed = store.inTransaction(c -> {
            Device d = devices.find(c, claims.deviceId());
            if (d != null && d.status() == DeviceStatus.SUSPENDED) {
                throw new GatewayException(Reason.DEVICE_SUSPENDED, "device '" + claims.deviceId() + "' is suspended");
            }
            return tokens.consume(c, claims, spki);
        });
        if (consumed.retry() && consumed.serial() != null) {
            return previouslyIssued(consumed.serial());
        }
        IssuedCertificate issued = issue(csrDer, csr, claims.deviceId());
        store.inTransaction(c -> {
            devices.recordEnrollment(c, claims.deviceId(), claims.labels(), null, null);
            tokens.recordSerial(c, claims.jti(), issued.serialHex());
            return null;
        });
        devices.invalidate(claims.deviceId());
        audit.record(issuedEvent(AuditEvent.ENROLLMENT, claims.deviceId(), issued, "token"));
        return ca.servedChain(issued.certificate());
    }

    /** {@code simpleenroll} with a factory certificate (IDevID) presented as the TLS client certificate. */
    public List<X509Certificate> enrollWithFactoryCertificate(byte[] csrDer, List<X509Certificate> chain)
            throws GatewayException, StoreException {
        ValidatedCsr csr = validate(csrDer);
        if (idevid == null) {
            throw new GatewayException(Reason.IDEVID_INVALID, "factory-certificate enrollment is not configured");
        }
        String id = idevid.deviceId(chain, clock);
        requireSameDevice(csr, id);
        X509Certificate factory = chain.get(0);
        String issuer = factory.getIssuerX500Principal().getName();
        String serial = Certificates.serialHex(factory.getSerialNumber());
        Device d = devices.find(id).orElse(null);
        if (d == null && !idevid.allowUnregistered()) {
            throw new GatewayException(Reason.IDEVID_NOT_REGISTERED, "device '" + id
                    + "' is not registered for factory-certificate enrollment");
        }
        if (d != null) {
            if (d.status() == DeviceStatus.SUSPENDED || d.status() == DeviceStatus.REVOKED) {
                throw new GatewayException(Reason.DEVICE_SUSPENDED, "device '" + id + "' is " + d.status().dbName());
            }
            boolean serialMatches = d.idevidSerial() == null ? idevid.allowUnregistered()
                    : d.idevidSerial().equals(serial);
            boolean issuerMatches = d.idevidIssuer() == null || d.idevidIssuer().equals(issuer);
            if (!serialMatches || !issuerMatches) {
                throw new GatewayException(Reason.IDEVID_NOT_REGISTERED, "device '" + id
                        + "' is bound to another factory certificate");
            }
        }
        IssuedCertificate issued = issue(csrDer, csr, id);
        store.inTransaction(c -> {
            devices.recordEnrollment(c, id, Map.of(), issuer, serial);
            return null;
        });
        devices.invalidate(id);
        audit.record(issuedEvent(AuditEvent.ENROLLMENT, id, issued, "factory-certificate " + serial));
        return ca.servedChain(issued.certificate());
    }

    /** {@code simplereenroll}: renew with the current, unrevoked device certificate; the identity is kept. */
    public List<X509Certificate> reenroll(byte[] csrDer, List<X509Certificate> clientChain)
            throws GatewayException, StoreException {
        ValidatedCsr csr = validate(csrDer);
        if (clientChain == null || clientChain.isEmpty()) {
            throw new GatewayException(Reason.CERTIFICATE_REQUIRED, "re-enrollment needs the current device "
                    + "certificate as the TLS client certificate");
        }
        SpiffeId identity = verifier.verify(clientChain.get(0));
        if (identity.kind() != SpiffeId.Kind.DEVICE) {
            throw new GatewayException(Reason.FORBIDDEN, "only device certificates re-enroll");
        }
        requireSameDevice(csr, identity.name());
        IssuedCertificate issued = issue(csrDer, csr, identity.name());
        store.inTransaction(c -> {
            devices.recordEnrollment(c, identity.name(), Map.of(), null, null);
            return null;
        });
        devices.invalidate(identity.name());
        audit.record(issuedEvent(AuditEvent.RENEWAL, identity.name(), issued, "certificate "
                + Certificates.serialHex(clientChain.get(0).getSerialNumber())));
        return ca.servedChain(issued.certificate());
    }

    private static AuditEvent issuedEvent(String type, String deviceId, IssuedCertificate issued, String credential) {
        return AuditEvent.of(type).actor("device/" + deviceId).subject("device/" + deviceId)
                .detail("serial", issued.serialHex()).detail("credential", credential)
                .detail("notAfter", issued.certificate().getNotAfter().toInstant().toString()).build();
    }

    /**
     * A CSR whose subject names a device other than the one the credential is for was made for another device:
     * refused, though the subject would never be copied (an empty subject is fine).
     */
    private static void requireSameDevice(ValidatedCsr csr, String deviceId) throws GatewayException {
        String cn = csr.claimedCommonName();
        if (cn != null && !cn.isEmpty() && !cn.equals(deviceId)) {
            throw new GatewayException(Reason.TOKEN_WRONG_DEVICE, "the CSR is for '" + cn + "' but the credential is for '"
                    + deviceId + "'");
        }
    }

    private static ValidatedCsr validate(byte[] csrDer) throws GatewayException {
        try {
            return CsrValidator.validate(csrDer);
        } catch (PkiException e) {
            Reason r = e.reason() == PkiException.Reason.CSR_TOO_LARGE ? Reason.TOO_LARGE : Reason.CSR_INVALID;
            throw new GatewayException(r, e.getMessage());
        }
    }

    private IssuedCertificate issue(byte[] csrDer, ValidatedCsr checked, String deviceId) throws GatewayException {
        try {
            return ca.issue(new IssueRequest(csrDer, CertificateProfile.DEVICE, deviceId, List.of(), List.of(), null,
                    null), checked);
        } catch (PkiException e) {
            throw new GatewayException(e.reason().badInput() ? Reason.CSR_INVALID : Reason.INTERNAL, e.getMessage(), e);
        }
    }

    private List<X509Certificate> previouslyIssued(String serial) throws GatewayException {
        byte[] der = devices.certificateDer(serial);
        if (der == null) {
            throw new GatewayException(Reason.INTERNAL, "certificate " + serial + " of a consumed token is missing");
        }
        try {
            X509Certificate cert = Certificates.parse(der);
            return List.of(cert, ca.issuerOf(cert));
        } catch (CertificateException e) {
            throw new GatewayException(Reason.INTERNAL, "stored certificate unreadable", e);
        }
    }
}
