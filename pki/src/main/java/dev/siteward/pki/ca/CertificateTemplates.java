package dev.siteward.pki.ca;

import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.PkiException.Reason;
import dev.siteward.pki.SpiffeId;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.Time;
import org.bouncycastle.asn1.DERGeneralizedTime;
import org.bouncycastle.asn1.DERUTCTime;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;

/**
 * Builds unsigned certificates (templates) for each profile. Subject and SANs come from the request's authorized
 * name, never from the CSR.
 */
final class CertificateTemplates {

    static final Pattern DNS_NAME = Pattern.compile(
            "(\\*\\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");

    private CertificateTemplates() {
    }

    /** The SANs a request yields, decided before anything is built so that bad names fail early. */
    record Sans(String uri, List<String> dns, List<byte[]> ips) {
    }

    static Sans sans(CertificateProfile profile, String trustDomain, String name, List<String> extraDns,
                     List<String> extraIps) throws PkiException {
        if (profile != CertificateProfile.SERVER) {
            if (!extraDns.isEmpty() || !extraIps.isEmpty()) {
                throw new PkiException(Reason.NAME_INVALID, "DNS and IP names are for the server profile only");
            }
            SpiffeId.Kind kind = switch (profile) {
                case DEVICE -> SpiffeId.Kind.DEVICE;
                case SERVICE -> SpiffeId.Kind.SERVICE;
                case ADMIN -> SpiffeId.Kind.ADMIN;
                case PUBLISHER -> SpiffeId.Kind.PUBLISHER;
                default -> throw new IllegalStateException();
            };
            try {
                return new Sans(new SpiffeId(trustDomain, kind, name).toString(), List.of(), List.of());
            } catch (IllegalArgumentException e) {
                throw new PkiException(Reason.NAME_INVALID, e.getMessage());
            }
        }
        List<String> dns = new ArrayList<>();
        List<byte[]> ips = new ArrayList<>();
        List<String> all = new ArrayList<>();
        all.add(name);
        all.addAll(extraDns);
        all.addAll(extraIps);
        for (String n : all) {
            byte[] ip = ipLiteral(n);
            if (ip != null) {
                if (ips.stream().noneMatch(x -> Arrays.equals(x, ip))) {
                    ips.add(ip);
                }
            } else {
                String lower = n.toLowerCase(Locale.ROOT);
                // an all-numeric dotted name is a mistyped IPv4 address, never a host name (RFC 3696 section 2)
                if (lower.length() > 253 || !DNS_NAME.matcher(lower).matches() || lower.matches("[0-9.]+")) {
                    throw new PkiException(Reason.NAME_INVALID, "invalid DNS name or IP address '" + n + "'");
                }
                if (!dns.contains(lower)) {
                    dns.add(lower);
                }
            }
        }
        return new Sans(null, dns, ips);
    }

    /** The address bytes when the text is an IPv4 or IPv6 literal, else null (no DNS lookup is made). */
    static byte[] ipLiteral(String text) {
        boolean v4 = text.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        boolean v6 = text.contains(":") && text.matches("[0-9a-fA-F:.]+");
        if (!v4 && !v6) {
            return null;
        }
        if (v4) {
            // parsed here: InetAddress.getByName would look up an out-of-range "10.0.0.300" in DNS
            byte[] address = new byte[4];
            String[] octets = text.split("\\.");
            for (int i = 0; i < 4; i++) {
                if ((octets[i].length() > 1 && octets[i].startsWith("0")) || Integer.parseInt(octets[i]) > 255) {
                    return null; // out of range, or a leading zero that some parsers read as octal
                }
                address[i] = (byte) Integer.parseInt(octets[i]);
            }
            return address;
        }
        try {
            return InetAddress.getByName(text).getAddress();
        } catch (UnknownHostException e) {
            return null;
        }
    }

    static X500Name commonName(String cn, String organization) {
        X500NameBuilder b = new X500NameBuilder(BCStyle.INSTANCE);
        if (organization != null) {
            b.addRDN(BCStyle.O, organization);
        }
        b.addRDN(BCStyle.CN, cn);
        return b.build();
    }

    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });

    /** RFC 7093 section 2 method 1: the leftmost 160 bits of the SHA-256 of the subjectPublicKey bits. */
    static byte[] keyIdentifier(SubjectPublicKeyInfo spki) {
        return Arrays.copyOf(SHA256.get().digest(spki.getPublicKeyData().getBytes()), 20);
    }

    /**
     * An X.509 time (RFC 5280 section 4.1.2.5): UTCTime through 2049, GeneralizedTime from 2050, in whole seconds.
     * Formatted directly rather than through BouncyCastle's Date path, which goes through SimpleDateFormat.
     */
    static Time x509Time(java.time.Instant instant) {
        long second = instant.getEpochSecond();
        Object[] cache = LAST_TIMES.get();
        for (int i = 0; i < cache.length; i += 2) {
            if (cache[i] != null && (Long) cache[i] == second) {
                return (Time) cache[i + 1];
            }
        }
        Time time = formatTime(instant);
        // two slots (notBefore, notAfter); the older one is replaced
        System.arraycopy(cache, 0, cache, 2, 2);
        cache[0] = second;
        cache[1] = time;
        return time;
    }

    /** Issuances in the same second share notBefore and notAfter: keep the last two encodings per thread. */
    private static final ThreadLocal<Object[]> LAST_TIMES = ThreadLocal.withInitial(() -> new Object[4]);

    private static Time formatTime(java.time.Instant instant) {
        java.time.ZonedDateTime t = instant.atZone(java.time.ZoneOffset.UTC);
        String body = String.format(java.util.Locale.ROOT, "%02d%02d%02d%02d%02dZ", t.getMonthValue(),
                t.getDayOfMonth(), t.getHour(), t.getMinute(), t.getSecond());
        if (t.getYear() < 2050) {
            return new Time(new DERUTCTime(String.format(java.util.Locale.ROOT, "%02d", t.getYear() % 100) + body));
        }
        return new Time(new DERGeneralizedTime(String.format(java.util.Locale.ROOT, "%04d", t.getYear()) + body));
    }

    /** The encoded CRL distribution point extension value for this URL. */
    static byte[] crlDistributionPoint(String url) throws IOException {
        DistributionPointName dpn = new DistributionPointName(new GeneralNames(
                new GeneralName(GeneralName.uniformResourceIdentifier, url)));
        return new CRLDistPoint(new DistributionPoint[] {new DistributionPoint(dpn, null, null)})
                .getEncoded(ASN1Encoding.DER);
    }

    /** An end-entity template for the profile. */
    static X509v3CertificateBuilder endEntity(CertificateProfile profile, X500Name issuer, byte[] issuerKeyId,
                                              BigInteger serial, Time notBefore, Time notAfter, String name,
                                              Sans sans, SubjectPublicKeyInfo spki, byte[] crlDpExtension,
                                              boolean rsaKey) throws CertIOException {
        X509v3CertificateBuilder b = new X509v3CertificateBuilder(issuer, serial, notBefore, notAfter,
                commonName(name, null), spki);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        int ku = KeyUsage.digitalSignature;
        if (profile == CertificateProfile.SERVER && rsaKey) {
            ku |= KeyUsage.keyEncipherment;
        }
        b.addExtension(Extension.keyUsage, true, new KeyUsage(ku));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(switch (profile) {
            case SERVER -> KeyPurposeId.id_kp_serverAuth;
            case PUBLISHER -> KeyPurposeId.id_kp_codeSigning;
            default -> KeyPurposeId.id_kp_clientAuth;
        }));
        List<GeneralName> names = new ArrayList<>();
        if (sans.uri() != null) {
            names.add(new GeneralName(GeneralName.uniformResourceIdentifier, sans.uri()));
        }
        for (String d : sans.dns()) {
            names.add(new GeneralName(GeneralName.dNSName, d));
        }
        for (byte[] ip : sans.ips()) {
            names.add(new GeneralName(GeneralName.iPAddress, new org.bouncycastle.asn1.DEROctetString(ip)));
        }
        // a URI-only identity has an empty-ish subject role; the SAN is the identity (RFC 5280 section 4.2.1.6)
        b.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(names.toArray(new GeneralName[0])));
        b.addExtension(Extension.subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(spki)));
        b.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(issuerKeyId));
        if (crlDpExtension != null) {
            b.addExtension(Extension.cRLDistributionPoints, false, crlDpExtension);
        }
        return b;
    }

    /** A CA template: root (self-issued, pathLen 1) or issuing CA (pathLen 0). */
    static X509v3CertificateBuilder ca(X500Name issuer, byte[] issuerKeyId, X500Name subject, BigInteger serial,
                                       Date notBefore, Date notAfter, SubjectPublicKeyInfo spki, int pathLen)
            throws CertIOException {
        X509v3CertificateBuilder b = new X509v3CertificateBuilder(issuer, serial, notBefore, notAfter, subject, spki);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(pathLen));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        b.addExtension(Extension.subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(spki)));
        if (issuerKeyId != null) {
            b.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(issuerKeyId));
        }
        return b;
    }
}
