package dev.siteward.pki.est;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cms.CMSAbsentContent;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSSignedDataGenerator;

/**
 * The EST wire formats (RFC 7030): certificates as a degenerate "certs-only" CMS SignedData (section 4.1.3, 4.2.3),
 * base64 transfer encoding (section 4), and the CSR attributes answer (section 4.5.2).
 */
public final class EstCodec {

    /** The media type of certs-only responses. */
    public static final String CERTS_ONLY = "application/pkcs7-mime; smime-type=certs-only";
    public static final String PKCS10 = "application/pkcs10";
    public static final String CSRATTRS = "application/csrattrs";

    private EstCodec() {
    }

    /**
     * DER of a certs-only PKCS#7 (degenerate SignedData) holding the certificates in the given order (leaf first),
     * which is the order {@code openssl pkcs7 -print_certs} shows.
     */
    public static byte[] certsOnly(List<X509Certificate> certificates) {
        try {
            // BouncyCastle keeps the given order (the certificates SET is written as BER); the JDK's CertPath
            // encoding sorts it as a DER SET, which can put the CA before the leaf
            CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
            gen.addCertificates(new JcaCertStore(certificates));
            return gen.generate(new CMSAbsentContent()).getEncoded();
        } catch (CertificateException | CMSException | IOException e) {
            throw new IllegalStateException("cannot encode certificates", e);
        }
    }

    /** Parses a certs-only PKCS#7 (DER). */
    public static List<X509Certificate> parseCertsOnly(byte[] der) throws CertificateException {
        List<X509Certificate> out = new ArrayList<>();
        for (Certificate c : CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(der))) {
            out.add((X509Certificate) c);
        }
        if (out.isEmpty()) {
            throw new CertificateException("no certificates in the PKCS#7 answer");
        }
        return out;
    }

    /** Base64 with a line break (LF) every 64 characters, which both EST clients and {@code base64 -d} read. */
    public static String base64(byte[] der) {
        return Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der) + "\n";
    }

    /**
     * Strictly decodes an EST base64 body: white space is ignored, anything else outside the base64 alphabet is an
     * error ({@link IllegalArgumentException}).
     */
    public static byte[] decodeBase64(byte[] body) {
        StringBuilder sb = new StringBuilder(body.length);
        for (byte b : body) {
            if (b != ' ' && b != '\r' && b != '\n' && b != '\t') {
                sb.append((char) (b & 0xff));
            }
        }
        return Base64.getDecoder().decode(sb.toString());
    }

    /** The CSR attributes Siteward asks for: an EC P-256 key, signed with ecdsa-with-SHA256. */
    public static byte[] csrAttributes() {
        ASN1EncodableVector v = new ASN1EncodableVector();
        v.add(X9ObjectIdentifiers.ecdsa_with_SHA256);
        v.add(new Attribute(X9ObjectIdentifiers.id_ecPublicKey, new DERSet(X9ObjectIdentifiers.prime256v1)));
        try {
            return new DERSequence(v).getEncoded(ASN1Encoding.DER);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
