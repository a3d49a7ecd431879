package dev.siteward.gateway.enrollment;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.pki.SpiffeId;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Factory certificates (IDevID, IEEE 802.1AR): a client certificate chaining to a configured manufacturer CA, and the
 * rule that maps it to a device id — the subject's CN or serialNumber attribute, lowercased.
 *
 * @param anchors            the manufacturer CAs
 * @param idFrom             {@code cn} or {@code serial-number}
 * @param allowUnregistered  whether devices that were not pre-registered may enroll (default false)
 */
public record IdevidPolicy(List<X509Certificate> anchors, String idFrom, boolean allowUnregistered) {

    /** Validates the factory chain (PKIX at the clock's time) and returns the device id it maps to. */
    public String deviceId(List<X509Certificate> chain, Clock clock) throws GatewayException {
        if (anchors.isEmpty()) {
            throw new GatewayException(Reason.IDEVID_INVALID, "factory-certificate enrollment is not configured");
        }
        try {
            Set<TrustAnchor> ta = new HashSet<>();
            for (X509Certificate a : anchors) {
                ta.add(new TrustAnchor(a, null));
            }
            PKIXParameters params = new PKIXParameters(ta);
            params.setRevocationEnabled(false);
            params.setDate(Date.from(clock.instant()));
            List<X509Certificate> path = chain.stream().filter(c -> !anchors.contains(c)).toList();
            CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509")
                    .generateCertPath(path), params);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new GatewayException(Reason.IDEVID_INVALID, "factory certificate does not chain to a configured "
                    + "manufacturer CA or is not valid now");
        }
        String attr = "serial-number".equals(idFrom) ? "SERIALNUMBER" : "CN";
        String value = null;
        try {
            String dn = chain.get(0).getSubjectX500Principal().getName(javax.security.auth.x500.X500Principal.RFC2253,
                    java.util.Map.of("2.5.4.5", "SERIALNUMBER"));
            for (Rdn rdn : new LdapName(dn).getRdns()) {
                if (rdn.getType().equalsIgnoreCase(attr)) {
                    value = String.valueOf(rdn.getValue());
                }
            }
        } catch (javax.naming.InvalidNameException e) {
            value = null;
        }
        if (value == null) {
            throw new GatewayException(Reason.IDEVID_INVALID, "factory certificate has no " + attr + " to map to a "
                    + "device id");
        }
        String id = value.toLowerCase(Locale.ROOT);
        try {
            return SpiffeId.requireName(id, "device id");
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.IDEVID_INVALID, "factory certificate maps to an invalid device id");
        }
    }
}
