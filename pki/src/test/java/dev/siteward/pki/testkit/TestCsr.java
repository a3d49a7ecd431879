package dev.siteward.pki.testkit;

import dev.siteward.pki.CryptoProviders;
import dev.siteward.pki.PemCodec;
import java.io.IOException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Builds PKCS#10 certification requests for tests, including deliberately bad ones: any signature algorithm
 * (e.g. {@code SHA1withRSA}, {@code SHA1withECDSA}, {@code MD5withRSA}), requested extensions such as
 * basicConstraints cA=TRUE, a signature by a key other than the one requested, or a corrupted signature.
 *
 * <pre>{@code
 * byte[] der = TestCsr.forKey(TestKeys.p256()).subject("CN=someone-else").uriSan("spiffe://x/admin/root").der();
 * }</pre>
 */
public final class TestCsr {

    private final KeyPair keyPair;
    private String subject = "CN=test";
    private String signatureAlgorithm;
    private PrivateKey signingKey;
    private final List<GeneralName> sans = new ArrayList<>();
    private final List<Object[]> extensions = new ArrayList<>();
    private boolean corruptSignature;

    private TestCsr(KeyPair keyPair) {
        this.keyPair = Objects.requireNonNull(keyPair, "keyPair");
    }

    /** A request for this key pair's public key, self-signed with its private key and the key's usual algorithm. */
    public static TestCsr forKey(KeyPair keyPair) {
        return new TestCsr(keyPair);
    }

    /** A well-formed P-256 request with subject {@code CN=test}, DER (a fresh key each call). */
    public static byte[] p256Der() {
        return forKey(TestKeys.p256()).der();
    }

    /** The subject distinguished name the request claims, e.g. {@code "CN=admin,O=evil"} (default {@code CN=test}). */
    public TestCsr subject(String distinguishedName) {
        this.subject = distinguishedName;
        return this;
    }

    /**
     * The JCA signature algorithm name, e.g. {@code SHA256withECDSA}, {@code SHA1withRSA}, {@code SHA1withECDSA}
     * ({@code ecdsa-with-SHA1}), {@code MD5withRSA}, {@code Ed25519}. Default: SHA-256 (P-256, RSA), SHA-384
     * (P-384) or Ed25519, matching the key.
     */
    public TestCsr signatureAlgorithm(String jcaName) {
        this.signatureAlgorithm = jcaName;
        return this;
    }

    /** Signs the request with another private key: the signature then proves no possession of the requested key. */
    public TestCsr signedBy(PrivateKey otherKey) {
        this.signingKey = otherKey;
        return this;
    }

    /** Adds a URI subject alternative name to the requested extensions. */
    public TestCsr uriSan(String uri) {
        sans.add(new GeneralName(GeneralName.uniformResourceIdentifier, uri));
        return this;
    }

    /** Adds a DNS subject alternative name to the requested extensions. */
    public TestCsr dnsSan(String dnsName) {
        sans.add(new GeneralName(GeneralName.dNSName, dnsName));
        return this;
    }

    /** Requests basicConstraints with the given cA flag (critical), as a CA certificate request would. */
    public TestCsr basicConstraints(boolean ca) {
        return extension(Extension.basicConstraints.getId(), true, encode(new BasicConstraints(ca)));
    }

    /** Requests CA rights: basicConstraints cA=TRUE. */
    public TestCsr requestCa() {
        return basicConstraints(true);
    }

    /** Requests a key usage given as {@link KeyUsage} bits (e.g. {@code KeyUsage.keyCertSign}). */
    public TestCsr keyUsage(int bits) {
        return extension(Extension.keyUsage.getId(), true, encode(new KeyUsage(bits)));
    }

    /** Requests any extension: its OID, criticality and the DER of its value (the extnValue content). */
    public TestCsr extension(String oid, boolean critical, byte[] derValue) {
        extensions.add(new Object[] {oid, critical, derValue.clone()});
        return this;
    }

    /** Flips the last bit of the signature, so the request is well-formed but its signature does not verify. */
    public TestCsr corruptSignature() {
        this.corruptSignature = true;
        return this;
    }

    /** The request, DER-encoded. */
    public byte[] der() {
        try {
            PKCS10CertificationRequestBuilder b = new JcaPKCS10CertificationRequestBuilder(new X500Name(subject),
                    keyPair.getPublic());
            if (!sans.isEmpty() || !extensions.isEmpty()) {
                ExtensionsGenerator gen = new ExtensionsGenerator();
                if (!sans.isEmpty()) {
                    gen.addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(sans.toArray(new GeneralName[0])));
                }
                for (Object[] e : extensions) {
                    gen.addExtension(new ASN1ObjectIdentifier((String) e[0]), (Boolean) e[1], (byte[]) e[2]);
                }
                b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, gen.generate());
            }
            PrivateKey key = signingKey == null ? keyPair.getPrivate() : signingKey;
            String alg = signatureAlgorithm == null ? defaultAlgorithm() : signatureAlgorithm;
            ContentSigner signer = new JcaContentSignerBuilder(alg).setProvider(CryptoProviders.bouncyCastle())
                    .build(key);
            byte[] der = b.build(signer).getEncoded();
            if (corruptSignature) {
                // the signature BIT STRING ends the structure: its last byte is signature content
                der[der.length - 1] ^= 0x01;
            }
            return der;
        } catch (IOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot build the test CSR", e);
        }
    }

    /** The request as PEM ({@code CERTIFICATE REQUEST}). */
    public String pem() {
        return PemCodec.encode("CERTIFICATE REQUEST", der());
    }

    private String defaultAlgorithm() {
        if (keyPair.getPublic() instanceof ECPublicKey ec) {
            return ec.getParams().getCurve().getField().getFieldSize() > 256 ? "SHA384withECDSA" : "SHA256withECDSA";
        }
        if (keyPair.getPublic() instanceof RSAPublicKey) {
            return "SHA256withRSA";
        }
        return keyPair.getPublic().getAlgorithm(); // Ed25519 (BC names it "Ed25519")
    }

    private static byte[] encode(org.bouncycastle.asn1.ASN1Object value) {
        try {
            return value.toASN1Primitive().getEncoded("DER");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
