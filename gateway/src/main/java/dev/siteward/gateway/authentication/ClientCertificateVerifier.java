package dev.siteward.gateway.authentication;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.devices.DeviceStatus;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.CryptoProviders;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.ca.CertificateRegistry;
import dev.siteward.pki.ca.RegistryEntry;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Decides whether a client certificate the site CA issued may be used now: signed by one of the site's issuing
 * CAs, within its validity, for client authentication, carrying a Siteward identity of this trust domain, recorded
 * in the CA's registry and not revoked there, and — for devices — the device neither suspended nor revoked.
 * The registry is the revocation source, so a revocation counts from the moment it is recorded, not from the next
 * CRL. {@link #verify} runs at every handshake; {@link #checkStatus} at every request, so a resumed TLS session
 * cannot outlive a revocation.
 */
public final class ClientCertificateVerifier {

    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

    private final Supplier<List<X509Certificate>> issuingCas;
    private final CertificateRegistry registry;
    private final DeviceRegistry devices;
    private final String trustDomain;
    private final Clock clock;

    public ClientCertificateVerifier(Supplier<List<X509Certificate>> issuingCas, CertificateRegistry registry,
                                     DeviceRegistry devices, String trustDomain, Clock clock) {
        this.issuingCas = issuingCas;
        this.registry = registry;
        this.devices = devices;
        this.trustDomain = trustDomain;
        this.clock = clock;
    }

    /** Full check of a presented leaf, including its signature by a site issuing CA. */
    public SpiffeId verify(X509Certificate leaf) throws GatewayException {
        X509Certificate issuer = null;
        for (X509Certificate ca : issuingCas.get()) {
            if (ca.getSubjectX500Principal().equals(leaf.getIssuerX500Principal())) {
                issuer = ca;
                break;
            }
        }
        if (issuer == null) {
            throw new GatewayException(Reason.CERTIFICATE_INVALID, "client certificate is not from this site's CA");
        }
        try {
            leaf.verify(issuer.getPublicKey(), CryptoProviders.bouncyCastle());
        } catch (GeneralSecurityException e) {
            throw new GatewayException(Reason.CERTIFICATE_INVALID, "client certificate signature is not valid");
        }
        return checkStatus(leaf);
    }

    /** The per-request part: validity, usage, identity, revocation and device status. */
    public SpiffeId checkStatus(X509Certificate leaf) throws GatewayException {
        Instant now = clock.instant();
        if (now.isBefore(leaf.getNotBefore().toInstant()) || now.isAfter(leaf.getNotAfter().toInstant())) {
            throw new GatewayException(Reason.CERTIFICATE_INVALID, "client certificate is expired or not yet valid");
        }
        try {
            List<String> eku = leaf.getExtendedKeyUsage();
            if (eku == null || !eku.contains(CLIENT_AUTH)) {
                throw new GatewayException(Reason.CERTIFICATE_INVALID, "certificate is not for client authentication");
            }
        } catch (CertificateParsingException e) {
            throw new GatewayException(Reason.CERTIFICATE_INVALID, "certificate extensions are unreadable");
        }
        SpiffeId id = Certificates.spiffeId(leaf);
        if (id == null || !id.trustDomain().equals(trustDomain)) {
            throw new GatewayException(Reason.CERTIFICATE_INVALID, "certificate carries no identity of this site");
        }
        Optional<RegistryEntry> entry = registry.find(leaf.getSerialNumber());
        if (entry.isEmpty()) {
            throw new GatewayException(Reason.CERTIFICATE_INVALID, "certificate is unknown to this site's CA");
        }
        if (entry.get().revoked()) {
            throw new GatewayException(Reason.CERTIFICATE_REVOKED, "certificate is revoked");
        }
        if (id.kind() == SpiffeId.Kind.DEVICE) {
            DeviceStatus status;
            try {
                status = devices.status(id.name());
            } catch (StoreException e) {
                throw new GatewayException(Reason.UNAVAILABLE, "device registry unavailable", e);
            }
            if (status == DeviceStatus.SUSPENDED) {
                throw new GatewayException(Reason.DEVICE_SUSPENDED, "device is suspended");
            }
            if (status == DeviceStatus.REVOKED) {
                throw new GatewayException(Reason.CERTIFICATE_REVOKED, "device is revoked");
            }
        }
        return id;
    }
}
