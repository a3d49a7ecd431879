package dev.siteward.pki;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jcajce.interfaces.EdDSAPrivateKey;
import org.bouncycastle.jce.interfaces.ECPrivateKey;
import org.bouncycastle.jce.spec.ECPublicKeySpec;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Keys and certificates in PEM, for the CLIs (publisher keys for {@code siteward model keygen/sign/verify}, the
 * gateway's own keys): read keys and certificates (text before a PEM block is skipped), derive a software key's public key, generate a key pair, a CSR
 * for the publisher CA, and a self-signed certificate for trying certificate mode.
 */
public final class KeyMaterial {

    /** Key types {@link #generate(Algorithm)} can create. */
    public enum Algorithm {
        /** ECDSA on NIST P-256 (signatures with SHA-256); the default. */
        EC_P256,
        /** ECDSA on NIST P-384 (signatures with SHA-384). */
        EC_P384,
        /** Ed25519 (accepted by Siteward, not by the reference tool). */
        ED25519
    }

    private KeyMaterial() {
    }

    /** Generates a key pair in software. */
    public static KeyPair generate(Algorithm type) throws GeneralSecurityException {
        KeyPairGenerator g;
        switch (type) {
            case EC_P256, EC_P384 -> {
                g = KeyPairGenerator.getInstance("EC", CryptoProviders.bouncyCastle());
                g.initialize(new ECGenParameterSpec(type == Algorithm.EC_P256 ? "secp256r1" : "secp384r1"),
                        new SecureRandom());
            }
            case ED25519 -> g = KeyPairGenerator.getInstance("Ed25519", CryptoProviders.bouncyCastle());
            default -> throw new IllegalArgumentException(type.name());
        }
        return g.generateKeyPair();
    }

    /** Reads a private key from PEM (PKCS#8 {@code PRIVATE KEY} or SEC 1 {@code EC PRIVATE KEY}, unencrypted). */
    public static PrivateKey readPrivateKey(String pem) throws IOException {
        Object o = readFirst(pem);
        JcaPEMKeyConverter conv = new JcaPEMKeyConverter().setProvider(CryptoProviders.bouncyCastle());
        if (o instanceof PEMKeyPair kp) {
            return conv.getPrivateKey(kp.getPrivateKeyInfo());
        }
        if (o instanceof PrivateKeyInfo info) {
            return conv.getPrivateKey(info);
        }
        throw new IOException("no unencrypted private key in the PEM input");
    }

    /** Reads a public key from PEM ({@code PUBLIC KEY}); text before the block is skipped. */
    public static PublicKey readPublicKey(String pem) throws IOException {
        Object o = readFirst(pem);
        if (o instanceof SubjectPublicKeyInfo spki) {
            return new JcaPEMKeyConverter().setProvider(CryptoProviders.bouncyCastle()).getPublicKey(spki);
        }
        if (o instanceof X509CertificateHolder cert) {
            return new JcaPEMKeyConverter().setProvider(CryptoProviders.bouncyCastle())
                    .getPublicKey(cert.getSubjectPublicKeyInfo());
        }
        throw new IOException("no public key in the PEM input");
    }

    /** Reads every certificate in PEM input, in order. */
    public static List<X509Certificate> readCertificates(String pem) throws IOException {
        List<X509Certificate> out = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            JcaX509CertificateConverter conv = new JcaX509CertificateConverter();
            Object o;
            while ((o = parser.readObject()) != null) {
                if (o instanceof X509CertificateHolder h) {
                    out.add(conv.getCertificate(h));
                }
            }
        } catch (CertificateException e) {
            throw new IOException("unreadable certificate: " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new IOException("no certificate in the PEM input");
        }
        return out;
    }

    /** Returns the public key paired with a software EC or Ed25519 private key. */
    public static PublicKey publicKeyOf(PrivateKey key) throws GeneralSecurityException {
        String alg = key.getAlgorithm();
        if (alg.equals("EC") || alg.equals("ECDSA")) {
            KeyFactory kf = KeyFactory.getInstance("EC", CryptoProviders.bouncyCastle());
            ECPrivateKey bc = key instanceof ECPrivateKey k ? k
                    : (ECPrivateKey) kf.generatePrivate(new PKCS8EncodedKeySpec(encoded(key)));
            var params = bc.getParameters();
            return kf.generatePublic(new ECPublicKeySpec(params.getG().multiply(bc.getD()).normalize(), params));
        }
        if (alg.equals("Ed25519") || alg.equals("EdDSA")) {
            if (key instanceof EdDSAPrivateKey k) {
                return k.getPublicKey();
            }
            KeyFactory kf = KeyFactory.getInstance("Ed25519", CryptoProviders.bouncyCastle());
            return ((EdDSAPrivateKey) kf.generatePrivate(new PKCS8EncodedKeySpec(encoded(key)))).getPublicKey();
        }
        throw new GeneralSecurityException("cannot derive the public key of a " + alg + " key");
    }

    private static byte[] encoded(PrivateKey key) throws GeneralSecurityException {
        byte[] der = key.getEncoded();
        if (der == null) {
            throw new GeneralSecurityException("the private key is not extractable (a token key?): pass its public key");
        }
        return der;
    }

    /** Encodes JCA keys and certificates as PEM text (private keys as unencrypted PKCS#8). */
    public static String toPem(Object... objects) {
        StringWriter sw = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
            for (Object o : objects) {
                if (o instanceof PrivateKey key) {
                    w.writeObject(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(key, null));
                } else {
                    w.writeObject(o);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("writing PEM to a string failed", e);
        }
        return sw.toString();
    }

    /**
     * Returns a PKCS#10 request (DER), signed with {@code keys}, for a publisher certificate with common name
     * {@code cn}; {@link #certificationRequestPem(byte[])} turns it into the {@code publisher.csr} text.
     */
    public static byte[] certificationRequest(KeyPair keys, String cn) throws GeneralSecurityException {
        try {
            return new JcaPKCS10CertificationRequestBuilder(name(cn), keys.getPublic())
                    .build(contentSigner(keys)).getEncoded();
        } catch (OperatorCreationException | IOException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    /** Returns a DER PKCS#10 request as PEM ({@code CERTIFICATE REQUEST}). */
    public static String certificationRequestPem(byte[] der) throws IOException {
        return toPem(new PKCS10CertificationRequest(der));
    }

    /**
     * Returns a self-signed certificate for trying certificate mode: CA false, digitalSignature, codeSigning EKU,
     * valid from {@code clock}'s instant (less one minute) for {@code validity}.
     */
    public static X509Certificate selfSignedCertificate(KeyPair keys, String cn, Clock clock, Duration validity)
            throws GeneralSecurityException {
        Instant now = clock.instant();
        X500Name subject = name(cn);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            var builder = new JcaX509v3CertificateBuilder(subject, new BigInteger(127, new SecureRandom()).add(
                    BigInteger.ONE), Date.from(now.minusSeconds(60)), Date.from(now.plus(validity)), subject,
                    keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(KeyPurposeId.id_kp_codeSigning))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            ext.createSubjectKeyIdentifier(keys.getPublic()));
            return new JcaX509CertificateConverter().getCertificate(builder.build(contentSigner(keys)));
        } catch (OperatorCreationException | IOException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    private static ContentSigner contentSigner(KeyPair keys) throws OperatorCreationException, GeneralSecurityException {
        return new JcaContentSignerBuilder(signatureAlgorithm(keys.getPublic()))
                .setProvider(CryptoProviders.bouncyCastle()).build(keys.getPrivate());
    }

    /** The signature algorithm Siteward uses with a key: ECDSA with the curve's hash (RFC 5480), or Ed25519. */
    public static String signatureAlgorithm(PublicKey key) throws GeneralSecurityException {
        if (key instanceof java.security.interfaces.ECKey ec) {
            KeyType t = KeyType.ofFieldSize(ec.getParams().getCurve().getField().getFieldSize());
            if (t == null) {
                throw new GeneralSecurityException("unsupported EC curve");
            }
            return t.signatureAlgorithm();
        }
        if (key.getAlgorithm().equals("Ed25519") || key.getAlgorithm().equals("EdDSA")) {
            return "Ed25519";
        }
        throw new GeneralSecurityException("unsupported key algorithm " + key.getAlgorithm());
    }


    private static X500Name name(String cn) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, cn).build();
    }

    private static Object readFirst(String pem) throws IOException {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object o = parser.readObject();
            if (o == null) {
                throw new IOException("no PEM block in the input");
            }
            return o;
        }
    }
}
