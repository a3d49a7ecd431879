package dev.siteward.pki.csr;

import dev.siteward.pki.CryptoProviders;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.PkiException.Reason;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Map;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.CertificationRequest;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.pkcs.RSASSAPSSparams;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentVerifier;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * Checks a PKCS#10 certification request (RFC 2986) before anything is issued for it: size cap, structure, a
 * signature algorithm without SHA-1 or MD5, a supported key (EC P-256/P-384, Ed25519, RSA 2048-8192), a valid
 * self-signature (proof of possession), and no request for CA rights. The subject and SANs the CSR claims are
 * ignored: the CA decides them.
 */
public final class CsrValidator {

    /** Largest CSR accepted, in bytes of DER. */
    public static final int MAX_CSR_BYTES = 64 * 1024;
    public static final int MIN_RSA_BITS = 2048;
    public static final int MAX_RSA_BITS = 8192;

    private static final Map<ASN1ObjectIdentifier, String> SIGNATURE_ALGORITHMS = Map.of(
            X9ObjectIdentifiers.ecdsa_with_SHA256, "SHA256withECDSA",
            X9ObjectIdentifiers.ecdsa_with_SHA384, "SHA384withECDSA",
            X9ObjectIdentifiers.ecdsa_with_SHA512, "SHA512withECDSA",
            EdECObjectIdentifiers.id_Ed25519, "Ed25519",
            PKCSObjectIdentifiers.sha256WithRSAEncryption, "SHA256withRSA",
            PKCSObjectIdentifiers.sha384WithRSAEncryption, "SHA384withRSA",
            PKCSObjectIdentifiers.sha512WithRSAEncryption, "SHA512withRSA");

    static {
        // BouncyCastleProvider.getPublicKey needs a provider instance to have registered its key converters
        CryptoProviders.bouncyCastle();
    }

    private CsrValidator() {
    }

    /** Validates a DER-encoded CSR; every failure is a {@link PkiException} whose reason says which rule broke. */
    public static ValidatedCsr validate(byte[] der) throws PkiException {
        if (der == null || der.length == 0) {
            throw new PkiException(Reason.CSR_MALFORMED, "CSR is empty");
        }
        if (der.length > MAX_CSR_BYTES) {
            throw new PkiException(Reason.CSR_TOO_LARGE, "CSR is " + der.length + " bytes; the limit is "
                    + MAX_CSR_BYTES);
        }
        CertificationRequest request;
        try {
            PKCS10CertificationRequest parsed = new PKCS10CertificationRequest(der);
            request = parsed.toASN1Structure();
            if (!java.util.Arrays.equals(request.getEncoded(ASN1Encoding.DER), der)) {
                throw new PkiException(Reason.CSR_MALFORMED, "CSR is not DER-encoded or has trailing data");
            }
        } catch (IOException | RuntimeException e) {
            throw new PkiException(Reason.CSR_MALFORMED, "CSR is not a valid PKCS#10 request", e);
        }
        AlgorithmIdentifier sigAlg = request.getSignatureAlgorithm();
        SubjectPublicKeyInfo spki = request.getCertificationRequestInfo().getSubjectPublicKeyInfo();
        checkKey(spki);
        checkSignatureAlgorithm(sigAlg, spki);
        PublicKey publicKey;
        byte[] spkiDer;
        try {
            spkiDer = spki.getEncoded(ASN1Encoding.DER);
            // getPublicKey's static key converters are filled only when a provider instance is constructed: without
            // this, the first CSR in a fresh JVM (e.g. `siteward ca issue`) is refused as "cannot be decoded"
            CryptoProviders.bouncyCastle();
            publicKey = BouncyCastleProvider.getPublicKey(spki);
            if (publicKey == null) {
                throw new IOException("no key factory");
            }
        } catch (IOException | RuntimeException e) {
            throw new PkiException(Reason.CSR_KEY_UNSUPPORTED, "CSR public key cannot be decoded", e);
        }
        verifySignature(request, sigAlg, publicKey);
        checkNoCaRights(request);
        return new ValidatedCsr(publicKey, spkiDer, commonName(request), der);
    }

    private static void checkKey(SubjectPublicKeyInfo spki) throws PkiException {
        ASN1ObjectIdentifier alg = spki.getAlgorithm().getAlgorithm();
        if (alg.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
            Object params = spki.getAlgorithm().getParameters();
            if (!(params instanceof ASN1ObjectIdentifier curve)) {
                throw new PkiException(Reason.CSR_KEY_UNSUPPORTED, "EC key must use a named curve (P-256 or P-384)");
            }
            if (!curve.equals(X9ObjectIdentifiers.prime256v1) && !curve.equals(SECObjectIdentifiers.secp384r1)) {
                throw new PkiException(Reason.CSR_KEY_UNSUPPORTED, "EC curve " + curve
                        + " is not accepted (use P-256 or P-384)");
            }
        } else if (alg.equals(EdECObjectIdentifiers.id_Ed25519)) {
            return;
        } else if (alg.equals(PKCSObjectIdentifiers.rsaEncryption)) {
            int bits;
            try {
                bits = RSAPublicKey.getInstance(spki.parsePublicKey()).getModulus().bitLength();
            } catch (IOException | RuntimeException e) {
                throw new PkiException(Reason.CSR_KEY_UNSUPPORTED, "RSA key cannot be decoded", e);
            }
            if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
                throw new PkiException(Reason.CSR_KEY_UNSUPPORTED, "RSA key of " + bits + " bits is not accepted (use "
                        + MIN_RSA_BITS + " to " + MAX_RSA_BITS + " bits)");
            }
        } else {
            throw new PkiException(Reason.CSR_KEY_UNSUPPORTED, "key algorithm " + alg
                    + " is not accepted (use EC P-256/P-384, Ed25519 or RSA >= 2048)");
        }
    }

    private static void checkSignatureAlgorithm(AlgorithmIdentifier sigAlg, SubjectPublicKeyInfo spki)
            throws PkiException {
        ASN1ObjectIdentifier oid = sigAlg.getAlgorithm();
        ASN1ObjectIdentifier keyAlg = spki.getAlgorithm().getAlgorithm();
        if (oid.equals(PKCSObjectIdentifiers.id_RSASSA_PSS)) {
            RSASSAPSSparams params;
            try {
                params = RSASSAPSSparams.getInstance(sigAlg.getParameters());
            } catch (RuntimeException e) {
                params = null;
            }
            if (params == null) {
                // absent or not a SEQUENCE: getInstance returns null or throws, which must not escape as a 500
                throw new PkiException(Reason.CSR_MALFORMED, "RSASSA-PSS parameters are missing or malformed");
            }
            ASN1ObjectIdentifier hash = params.getHashAlgorithm().getAlgorithm();
            if (!hash.equals(NISTObjectIdentifiers.id_sha256) && !hash.equals(NISTObjectIdentifiers.id_sha384)
                    && !hash.equals(NISTObjectIdentifiers.id_sha512)) {
                throw new PkiException(Reason.CSR_WEAK_ALGORITHM, "RSASSA-PSS with hash " + hash
                        + " is not accepted (use SHA-256 or stronger)");
            }
        } else if (!SIGNATURE_ALGORITHMS.containsKey(oid)) {
            throw new PkiException(Reason.CSR_WEAK_ALGORITHM, "signature algorithm " + oid
                    + " is not accepted (SHA-1 and MD5 are refused; use SHA-256 or stronger)");
        }
        boolean ecSig = oid.getId().startsWith("1.2.840.10045.4.");
        boolean rsaSig = oid.getId().startsWith("1.2.840.113549.1.1.");
        boolean matches = (ecSig && keyAlg.equals(X9ObjectIdentifiers.id_ecPublicKey))
                || (rsaSig && keyAlg.equals(PKCSObjectIdentifiers.rsaEncryption))
                || (oid.equals(EdECObjectIdentifiers.id_Ed25519) && keyAlg.equals(EdECObjectIdentifiers.id_Ed25519));
        if (!matches) {
            throw new PkiException(Reason.CSR_SIGNATURE_INVALID, "CSR signature algorithm does not fit its key");
        }
    }

    private static void verifySignature(CertificationRequest request, AlgorithmIdentifier sigAlg, PublicKey key)
            throws PkiException {
        boolean valid;
        try {
            byte[] tbs = request.getCertificationRequestInfo().getEncoded(ASN1Encoding.DER);
            byte[] sig = request.getSignature().getOctets();
            String jca = SIGNATURE_ALGORITHMS.get(sigAlg.getAlgorithm());
            if (jca != null) {
                Signature verifier = verifier(jca);
                verifier.initVerify(key);
                verifier.update(tbs);
                valid = verifier.verify(sig);
            } else {
                ContentVerifier verifier = new JcaContentVerifierProviderBuilder()
                        .setProvider(CryptoProviders.bouncyCastle()).build(key).get(sigAlg);
                verifier.getOutputStream().write(tbs);
                valid = verifier.verify(sig);
            }
        } catch (GeneralSecurityException | IOException | RuntimeException
                 | org.bouncycastle.operator.OperatorCreationException e) {
            valid = false;
        }
        if (!valid) {
            throw new PkiException(Reason.CSR_SIGNATURE_INVALID, "CSR signature does not verify (no proof of possession)");
        }
    }

    /** Signature objects are costly to look up and not thread-safe: one per thread and algorithm. */
    private static final ThreadLocal<Map<String, Signature>> VERIFIERS = ThreadLocal.withInitial(java.util.HashMap::new);

    private static Signature verifier(String jca) throws GeneralSecurityException {
        Map<String, Signature> cache = VERIFIERS.get();
        Signature s = cache.get(jca);
        if (s == null) {
            s = Signature.getInstance(jca, CryptoProviders.bouncyCastle());
            cache.put(jca, s);
        }
        return s;
    }

    private static void checkNoCaRights(CertificationRequest request) throws PkiException {
        for (Attribute attr : attributes(request)) {
            if (!attr.getAttrType().equals(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
                continue;
            }
            for (var value : attr.getAttributeValues()) {
                Extensions exts;
                try {
                    exts = Extensions.getInstance(value);
                } catch (RuntimeException e) {
                    throw new PkiException(Reason.CSR_MALFORMED, "CSR extension request is malformed", e);
                }
                BasicConstraints bc;
                KeyUsage ku;
                try {
                    bc = BasicConstraints.fromExtensions(exts);
                    ku = KeyUsage.fromExtensions(exts);
                } catch (RuntimeException e) {
                    throw new PkiException(Reason.CSR_MALFORMED, "CSR requests a malformed basicConstraints or "
                            + "keyUsage extension", e);
                }
                if (bc != null && bc.isCA()) {
                    throw new PkiException(Reason.CSR_REQUESTS_CA, "CSR asks for CA rights (basicConstraints cA=TRUE)");
                }
                if (ku != null && (ku.hasUsages(KeyUsage.keyCertSign) || ku.hasUsages(KeyUsage.cRLSign))) {
                    throw new PkiException(Reason.CSR_REQUESTS_CA, "CSR asks for certificate or CRL signing key usage");
                }
                if (exts.getExtension(Extension.nameConstraints) != null) {
                    throw new PkiException(Reason.CSR_REQUESTS_CA, "CSR asks for name constraints (a CA extension)");
                }
            }
        }
    }

    private static String commonName(CertificationRequest request) {
        try {
            var rdns = request.getCertificationRequestInfo().getSubject()
                    .getRDNs(org.bouncycastle.asn1.x500.style.BCStyle.CN);
            if (rdns.length == 0 || rdns[0].getFirst() == null) {
                return null;
            }
            return org.bouncycastle.asn1.x500.style.IETFUtils.valueToString(rdns[0].getFirst().getValue());
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static Attribute[] attributes(CertificationRequest request) {
        var set = request.getCertificationRequestInfo().getAttributes();
        if (set == null) {
            return new Attribute[0];
        }
        Attribute[] out = new Attribute[set.size()];
        for (int i = 0; i < set.size(); i++) {
            out[i] = Attribute.getInstance(set.getObjectAt(i));
        }
        return out;
    }
}
