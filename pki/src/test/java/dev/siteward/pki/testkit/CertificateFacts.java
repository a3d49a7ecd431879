package dev.siteward.pki.testkit;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;

/** Reads the facts tests assert on from a certificate, with JDK types only: SANs by type, key ids, CRL URLs. */
public final class CertificateFacts {

    private CertificateFacts() {
    }

    /** The subject alternative names of one GeneralName type (2 DNS, 6 URI, 7 IP), as the JDK renders them. */
    public static List<String> sans(X509Certificate cert, int type) {
        List<String> out = new ArrayList<>();
        try {
            Collection<List<?>> all = cert.getSubjectAlternativeNames();
            if (all != null) {
                for (List<?> san : all) {
                    if ((Integer) san.get(0) == type) {
                        out.add(String.valueOf(san.get(1)));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    /** The number of subject alternative names of any type. */
    public static int sanCount(X509Certificate cert) {
        try {
            Collection<List<?>> all = cert.getSubjectAlternativeNames();
            return all == null ? 0 : all.size();
        } catch (CertificateParsingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The subject key identifier, or null when absent. */
    public static byte[] subjectKeyId(X509Certificate cert) {
        byte[] ext = cert.getExtensionValue("2.5.29.14");
        return ext == null ? null
                : SubjectKeyIdentifier.getInstance(ASN1OctetString.getInstance(ext).getOctets()).getKeyIdentifier();
    }

    /** The key identifier in the authority key identifier, or null when absent. */
    public static byte[] authorityKeyId(X509Certificate cert) {
        byte[] ext = cert.getExtensionValue("2.5.29.35");
        return ext == null ? null
                : AuthorityKeyIdentifier.getInstance(ASN1OctetString.getInstance(ext).getOctets()).getKeyIdentifier();
    }

    /** The URIs of the CRL distribution points extension (empty when absent). */
    public static List<String> crlDistributionUris(X509Certificate cert) {
        List<String> out = new ArrayList<>();
        byte[] ext = cert.getExtensionValue("2.5.29.31");
        if (ext == null) {
            return out;
        }
        CRLDistPoint dp = CRLDistPoint.getInstance(ASN1OctetString.getInstance(ext).getOctets());
        for (DistributionPoint p : dp.getDistributionPoints()) {
            if (p.getDistributionPoint() != null) {
                for (GeneralName n : GeneralNames.getInstance(p.getDistributionPoint().getName()).getNames()) {
                    if (n.getTagNo() == GeneralName.uniformResourceIdentifier) {
                        out.add(n.getName().toString());
                    }
                }
            }
        }
        return out;
    }
}
