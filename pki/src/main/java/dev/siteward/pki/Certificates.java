package dev.siteward.pki;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CRLException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;

/** Small facts about certificates: fingerprints, serials in hex, URI SANs, parsing DER. */
public final class Certificates {

    private static final ThreadLocal<CertificateFactory> FACTORY = ThreadLocal.withInitial(() -> {
        try {
            return CertificateFactory.getInstance("X.509");
        } catch (CertificateException e) {
            throw new IllegalStateException(e);
        }
    });

    private Certificates() {
    }

    /** {@code sha256:<lowercase hex>} of the certificate's DER: the form devices pin the site root by. */
    public static String fingerprint(X509Certificate certificate) {
        try {
            return "sha256:" + HexFormat.of().formatHex(sha256(certificate.getEncoded()));
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("certificate cannot be encoded", e);
        }
    }

    public static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A serial number as lowercase hex without leading zeros (as {@code openssl x509 -serial}, lowercased). */
    public static String serialHex(BigInteger serial) {
        return serial.toString(16);
    }

    /** Parses a serial given in hex, optionally with colons or a 0x prefix; throws with a clear message. */
    public static BigInteger parseSerial(String hex) {
        String clean = hex.trim().toLowerCase().replace(":", "");
        if (clean.startsWith("0x")) {
            clean = clean.substring(2);
        }
        if (clean.isEmpty() || clean.length() > 40 || !clean.matches("[0-9a-f]+")) {
            throw new IllegalArgumentException("invalid serial '" + hex + "': expected up to 40 hex digits");
        }
        return new BigInteger(clean, 16);
    }

    /** The URI subject alternative names of a certificate, in order. */
    public static List<String> uriSans(X509Certificate certificate) {
        List<String> uris = new ArrayList<>();
        try {
            Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (((Integer) san.get(0)) == 6) {
                        uris.add((String) san.get(1));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            return List.of();
        }
        return uris;
    }

    /** The Siteward identity in the certificate's URI SAN, or null when it has none (or more than one). */
    public static SpiffeId spiffeId(X509Certificate certificate) {
        SpiffeId found = null;
        for (String uri : uriSans(certificate)) {
            if (uri.startsWith("spiffe://")) {
                if (found != null) {
                    return null;
                }
                found = SpiffeId.parseOrNull(uri);
                if (found == null) {
                    return null;
                }
            }
        }
        return found;
    }

    public static X509Certificate parse(byte[] der) throws CertificateException {
        return (X509Certificate) FACTORY.get().generateCertificate(new ByteArrayInputStream(der));
    }

    public static X509CRL parseCrl(byte[] der) throws CRLException {
        return (X509CRL) FACTORY.get().generateCRL(new ByteArrayInputStream(der));
    }
}
