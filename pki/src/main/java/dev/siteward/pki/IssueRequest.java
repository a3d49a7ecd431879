package dev.siteward.pki;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What the CA is asked to issue. The subject and SANs come from here — decided by the enrollment's authorization —
 * and never from what the CSR claims.
 *
 * @param csrDer     the PKCS#10 request, DER
 * @param profile    the certificate profile
 * @param name       the device id, or the service/admin/publisher name, or the server's primary host name
 * @param dnsNames   extra DNS SANs (server profile only)
 * @param ipAddresses extra IP SANs as text (server profile only)
 * @param ttl        the requested lifetime, or null for the profile default
 * @param role       an admin's role, recorded in the registry (admin profile only), or null
 */
public record IssueRequest(byte[] csrDer, CertificateProfile profile, String name, List<String> dnsNames,
                           List<String> ipAddresses, Duration ttl, String role) {

    public IssueRequest {
        Objects.requireNonNull(csrDer, "csrDer");
        Objects.requireNonNull(profile, "profile");
        Objects.requireNonNull(name, "name");
        dnsNames = dnsNames == null ? List.of() : List.copyOf(dnsNames);
        ipAddresses = ipAddresses == null ? List.of() : List.copyOf(ipAddresses);
    }

    /** A device certificate request with the profile's default lifetime. */
    public static IssueRequest device(byte[] csrDer, String deviceId) {
        return new IssueRequest(csrDer, CertificateProfile.DEVICE, deviceId, List.of(), List.of(), null, null);
    }

    public IssueRequest withTtl(Duration newTtl) {
        return new IssueRequest(csrDer, profile, name, dnsNames, ipAddresses, newTtl, role);
    }
}
