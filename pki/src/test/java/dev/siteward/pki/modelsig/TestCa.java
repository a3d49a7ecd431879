package dev.siteward.pki.modelsig;

import dev.siteward.pki.KeyMaterial;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A small in-code test PKI: a root, an intermediate and publisher leaves, all ECDSA, built fresh per test run
 * (no checked-in keys).
 */
final class TestCa {

    static final Instant NOW = Instant.parse("2026-06-01T00:00:00Z");

    final KeyMaterial.Algorithm keyType;
    final KeyPair rootKeys;
    final X509Certificate root;
    final KeyPair intermediateKeys;
    final X509Certificate intermediate;

    private TestCa(KeyMaterial.Algorithm keyType, String name) throws Exception {
        this.keyType = keyType;
        rootKeys = KeyMaterial.generate(keyType);
        root = certificate(new X500Name("CN=" + name + " root"), rootKeys.getPublic(),
                new X500Name("CN=" + name + " root"), rootKeys, true, NOW.minus(Duration.ofDays(1)),
                NOW.plus(Duration.ofDays(3650)));
        intermediateKeys = KeyMaterial.generate(keyType);
        intermediate = certificate(new X500Name("CN=" + name + " intermediate"), intermediateKeys.getPublic(),
                new X500Name("CN=" + name + " root"), rootKeys, true, NOW.minus(Duration.ofDays(1)),
                NOW.plus(Duration.ofDays(1000)));
    }

    /** Returns a new CA (root and intermediate) with keys of {@code type}. */
    static TestCa create(KeyMaterial.Algorithm type, String name) throws Exception {
        return new TestCa(type, name);
    }

    /** A publisher: its key and its chain (leaf, intermediate). */
    record Publisher(PrivateKey privateKey, PublicKey publicKey, List<X509Certificate> chain) {
        X509Certificate leaf() {
            return chain.get(0);
        }
    }

    /** Issues a code-signing publisher certificate below the intermediate, valid around {@link #NOW}. */
    Publisher publisher(String cn) throws Exception {
        return publisher(cn, NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(365)), true);
    }

    /** Issues a publisher certificate with the given validity and signing usage. */
    Publisher publisher(String cn, Instant notBefore, Instant notAfter, boolean mayCodeSign) throws Exception {
        KeyPair keys = KeyMaterial.generate(keyType);
        X509Certificate leaf = certificate(new X500Name("CN=" + cn), keys.getPublic(),
                new X500Name(intermediate.getSubjectX500Principal().getName()), intermediateKeys, false, notBefore,
                notAfter, mayCodeSign);
        return new Publisher(keys.getPrivate(), keys.getPublic(), List.of(leaf, intermediate));
    }

    private static X509Certificate certificate(X500Name subject, PublicKey key, X500Name issuer, KeyPair issuerKeys,
                                               boolean ca, Instant notBefore, Instant notAfter) throws Exception {
        return certificate(subject, key, issuer, issuerKeys, ca, notBefore, notAfter, true);
    }

    private static X509Certificate certificate(X500Name subject, PublicKey key, X500Name issuer, KeyPair issuerKeys,
                                               boolean ca, Instant notBefore, Instant notAfter, boolean mayCodeSign)
            throws Exception {
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        var b = new JcaX509v3CertificateBuilder(issuer, new BigInteger(127, new SecureRandom()).add(BigInteger.ONE),
                Date.from(notBefore), Date.from(notAfter), subject, key)
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(ca))
                .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key))
                .addExtension(Extension.authorityKeyIdentifier, false,
                        ext.createAuthorityKeyIdentifier(issuerKeys.getPublic()));
        if (ca) {
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } else if (mayCodeSign) {
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_codeSigning));
        } else {
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyEncipherment));
        }
        String alg = SignatureAlgorithms.forKey(issuerKeys.getPublic()).jcaName();
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder(alg).setProvider(SignatureAlgorithms.BC)
                        .build(issuerKeys.getPrivate())));
    }
}
