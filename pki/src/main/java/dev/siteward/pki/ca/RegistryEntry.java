package dev.siteward.pki.ca;

import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.RevocationReason;
import java.math.BigInteger;
import java.time.Instant;

/**
 * One certificate in the issued-certificate registry.
 *
 * @param serial      the certificate serial
 * @param profile     the profile it was issued under, or null for the CA's own certificates
 * @param name        the device id or subject name
 * @param role        an admin's role, or null
 * @param notBefore   start of validity
 * @param notAfter    end of validity
 * @param der         the certificate, DER
 * @param revokedAt   when it was revoked, or null
 * @param reason      why it was revoked, or null
 */
public record RegistryEntry(BigInteger serial, CertificateProfile profile, String name, String role,
                            Instant notBefore, Instant notAfter, byte[] der, Instant revokedAt,
                            RevocationReason reason) {

    public boolean revoked() {
        return revokedAt != null;
    }

    public RegistryEntry withRevocation(Instant at, RevocationReason why) {
        return new RegistryEntry(serial, profile, name, role, notBefore, notAfter, der, at, why);
    }
}
