package dev.siteward.pki.ca;

import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.PkiException.Reason;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * Re-validates an issued certificate, as parsed back from its DER, against the profile it was meant to follow
 * (the third step of template → sign → validate). A certificate that fails is never recorded or handed out.
 */
final class ProfileCheck {

    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String CODE_SIGNING = "1.3.6.1.5.5.7.3.3";

    private ProfileCheck() {
    }

    static void check(X509Certificate cert, CertificateProfile profile, X509Certificate issuer, BigInteger serial,
                      byte[] expectedSpki, CertificateTemplates.Sans sans, boolean expectCrlDp) throws PkiException {
        List<String> problems = new ArrayList<>();
        if (!cert.getSerialNumber().equals(serial) || serial.signum() <= 0 || serial.bitLength() > 159) {
            problems.add("serial");
        }
        if (!cert.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
            problems.add("issuer name");
        }
        if (cert.getNotAfter().after(issuer.getNotAfter()) || cert.getNotBefore().before(issuer.getNotBefore())
                || !cert.getNotBefore().before(cert.getNotAfter())) {
            problems.add("validity outside the issuer's");
        }
        if (!Arrays.equals(cert.getPublicKey().getEncoded(), expectedSpki)) {
            problems.add("public key differs from the CSR's");
        }
        if (cert.getBasicConstraints() != -1) {
            problems.add("end-entity certificate is a CA");
        }
        boolean[] ku = cert.getKeyUsage();
        if (ku == null || !ku[0] || (ku.length > 5 && (ku[5] || ku[6]))) {
            problems.add("key usage");
        }
        try {
            List<String> eku = cert.getExtendedKeyUsage();
            String expected = switch (profile) {
                case SERVER -> SERVER_AUTH;
                case PUBLISHER -> CODE_SIGNING;
                default -> CLIENT_AUTH;
            };
            if (eku == null || !eku.equals(List.of(expected))) {
                problems.add("extended key usage");
            }
            checkSans(cert, sans, problems);
        } catch (CertificateParsingException e) {
            problems.add("unparseable extension");
        }
        if (cert.getExtensionValue("2.5.29.14") == null || cert.getExtensionValue("2.5.29.35") == null) {
            problems.add("key identifiers");
        }
        if (expectCrlDp && cert.getExtensionValue("2.5.29.31") == null) {
            problems.add("CRL distribution point");
        }
        Set<String> critical = cert.getCriticalExtensionOIDs();
        if (critical == null || !critical.equals(Set.of("2.5.29.19", "2.5.29.15"))) {
            problems.add("critical extensions");
        }
        if (!problems.isEmpty()) {
            throw new PkiException(Reason.PROFILE_VIOLATION, "issued certificate breaks the " + profile.cliName()
                    + " profile: " + String.join(", ", problems));
        }
    }

    private static void checkSans(X509Certificate cert, CertificateTemplates.Sans sans, List<String> problems)
            throws CertificateParsingException {
        Collection<List<?>> all = cert.getSubjectAlternativeNames();
        if (all == null) {
            problems.add("subject alternative names missing");
            return;
        }
        List<String> uris = new ArrayList<>();
        List<String> dns = new ArrayList<>();
        List<String> ips = new ArrayList<>();
        for (List<?> san : all) {
            int type = (Integer) san.get(0);
            switch (type) {
                case 6 -> uris.add((String) san.get(1));
                case 2 -> dns.add((String) san.get(1));
                case 7 -> ips.add((String) san.get(1));
                default -> problems.add("unexpected SAN type " + type);
            }
        }
        if (!uris.equals(sans.uri() == null ? List.of() : List.of(sans.uri()))) {
            problems.add("URI SAN");
        }
        if (!dns.equals(sans.dns())) {
            problems.add("DNS SANs");
        }
        List<String> expectedIps = new ArrayList<>();
        for (byte[] ip : sans.ips()) {
            try {
                expectedIps.add(InetAddress.getByAddress(ip).getHostAddress());
            } catch (java.net.UnknownHostException e) {
                problems.add("IP SAN");
            }
        }
        List<String> normalized = new ArrayList<>();
        for (String ip : ips) {
            byte[] b = CertificateTemplates.ipLiteral(ip);
            try {
                normalized.add(b == null ? ip : InetAddress.getByAddress(b).getHostAddress());
            } catch (java.net.UnknownHostException e) {
                normalized.add(ip);
            }
        }
        if (!normalized.equals(expectedIps)) {
            problems.add("IP SANs");
        }
        if (sans.uri() != null && Certificates.spiffeId(cert) == null) {
            problems.add("SPIFFE identity");
        }
    }
}
