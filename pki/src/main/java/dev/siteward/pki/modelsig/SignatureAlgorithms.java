package dev.siteward.pki.modelsig;

import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * Picks the signature algorithm from the signer's public key, as the reference implementation does (the hash
 * follows the curve): ECDSA P-256 with SHA-256, P-384 with SHA-384, P-521 with SHA-512, DER-encoded signatures;
 * and Ed25519 (a Siteward extension; the reference tool accepts only ECDSA).
 *
 * <p>ECDSA and Ed25519 run in the BouncyCastle provider (about 7x faster than SunEC here), passed explicitly: it is
 * never registered globally, so the JVM's provider order is left alone.
 */
final class SignatureAlgorithms {

    /** The BouncyCastle provider instance used by this package; not added to {@link java.security.Security}. */
    static final Provider BC = new BouncyCastleProvider();

    private SignatureAlgorithms() {
    }

    /** The JCA signature algorithm and the key type for {@code key}. */
    record Algorithm(String jcaName, String keyAlgorithm, String description) {
    }

    /** Returns the algorithm for {@code key}, or fails with {@link FailureReason#UNSUPPORTED_ALGORITHM}. */
    static Algorithm forKey(PublicKey key) throws ModelSignatureException {
        SubjectPublicKeyInfo spki;
        try {
            spki = SubjectPublicKeyInfo.getInstance(key.getEncoded());
        } catch (RuntimeException e) {
            throw unsupported("the public key cannot be encoded as SubjectPublicKeyInfo");
        }
        AlgorithmIdentifier alg = spki.getAlgorithm();
        if (alg.getAlgorithm().equals(EdECObjectIdentifiers.id_Ed25519)) {
            return new Algorithm("Ed25519", "Ed25519", "Ed25519");
        }
        if (alg.getAlgorithm().equals(X9ObjectIdentifiers.id_ecPublicKey)
                && alg.getParameters() instanceof ASN1ObjectIdentifier curve) {
            if (curve.equals(SECObjectIdentifiers.secp256r1)) {
                return new Algorithm("SHA256withECDSA", "EC", "ECDSA P-256 SHA-256");
            }
            if (curve.equals(SECObjectIdentifiers.secp384r1)) {
                return new Algorithm("SHA384withECDSA", "EC", "ECDSA P-384 SHA-384");
            }
            if (curve.equals(SECObjectIdentifiers.secp521r1)) {
                return new Algorithm("SHA512withECDSA", "EC", "ECDSA P-521 SHA-512");
            }
            throw unsupported("EC curve " + curve.getId() + " is not supported (P-256, P-384, P-521 are)");
        }
        throw unsupported("key algorithm " + key.getAlgorithm() + " is not supported (ECDSA, Ed25519 are)");
    }

    /**
     * Signs {@code data}: with {@code provider} when given (a PKCS#11 key stays on its token), else with BouncyCastle,
     * falling back to the JCA's provider selection for keys BouncyCastle cannot use.
     */
    static byte[] sign(Algorithm alg, PrivateKey key, Provider provider, byte[] data) throws GeneralSecurityException {
        Signature s;
        if (provider != null) {
            s = Signature.getInstance(alg.jcaName(), provider);
            s.initSign(key);
        } else {
            try {
                s = Signature.getInstance(alg.jcaName(), BC);
                s.initSign(key);
            } catch (InvalidKeyException e) {
                s = Signature.getInstance(alg.jcaName());
                s.initSign(key);
            }
        }
        s.update(data);
        return s.sign();
    }

    /** Returns true when {@code signature} verifies over {@code data}; malformed signatures do not verify. */
    static boolean verify(Algorithm alg, PublicKey key, byte[] data, byte[] signature) {
        try {
            Signature s = Signature.getInstance(alg.jcaName(), BC);
            s.initVerify(toBouncyCastle(alg, key));
            s.update(data);
            return s.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    private static PublicKey toBouncyCastle(Algorithm alg, PublicKey key)
            throws NoSuchAlgorithmException, java.security.spec.InvalidKeySpecException {
        return KeyFactory.getInstance(alg.keyAlgorithm(), BC).generatePublic(new X509EncodedKeySpec(key.getEncoded()));
    }

    private static ModelSignatureException unsupported(String message) {
        return new ModelSignatureException(FailureReason.UNSUPPORTED_ALGORITHM, message);
    }
}
