package dev.siteward.pki.modelsig;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Verifies model signatures and withdrawals: the bundle's signature and trust first, then the signed manifest
 * against the files re-hashed from disk (or from memory).
 *
 * <p>Trust is either a set of root certificates (certificate mode: the bundle's chain, leaf first, must validate with
 * PKIX to one of them, and the leaf's key must verify the DSSE signature) or one public key (key mode: the bundle's
 * key hint is ignored). The signing certificate must allow digital signatures (key usage) or code signing (extended
 * key usage), as in the reference implementation; no other publisher profile is imposed on foreign certificates.
 * Revocation is not checked here.
 *
 * <p>Security failures are returned as a {@link VerificationResult} with a {@link FailureReason}; only I/O failures
 * (an unreadable file or directory) are thrown, as {@link IOException}. Instances are immutable and thread-safe.
 */
public final class ModelVerifier {

    private final Set<TrustAnchor> anchors;
    private final List<X509Certificate> roots;
    private final PublicKey trustedKey;
    private final Clock clock;
    private final boolean atSigningCertificateStart;

    private ModelVerifier(List<X509Certificate> roots, PublicKey trustedKey, Clock clock,
                          boolean atSigningCertificateStart) {
        this.roots = List.copyOf(roots);
        Set<TrustAnchor> set = new HashSet<>();
        for (X509Certificate root : this.roots) {
            set.add(new TrustAnchor(root, null));
        }
        this.anchors = Set.copyOf(set);
        this.trustedKey = trustedKey;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.atSigningCertificateStart = atSigningCertificateStart;
    }

    /** Returns a verifier for certificate-mode bundles whose chain leads to one of {@code roots}. */
    public static ModelVerifier trustingRoots(Collection<X509Certificate> roots) {
        if (roots.isEmpty()) {
            throw new IllegalArgumentException("no trusted root given");
        }
        return new ModelVerifier(new ArrayList<>(roots), null, Clock.systemUTC(), false);
    }

    /** Returns a verifier for bundles signed by the private key paired with {@code publicKey}. */
    public static ModelVerifier trustingKey(PublicKey publicKey) {
        return new ModelVerifier(List.of(), Objects.requireNonNull(publicKey, "publicKey"), Clock.systemUTC(), false);
    }

    /** Returns a copy that checks certificate validity at {@code clock}'s instant (default: the system clock). */
    public ModelVerifier withClock(Clock clock) {
        return new ModelVerifier(roots, trustedKey, clock, atSigningCertificateStart);
    }

    /**
     * Returns a copy that checks certificate validity at the signing certificate's notBefore, as the reference
     * implementation does for lack of a trusted timestamp (an expired chain then still verifies). Off by default.
     */
    public ModelVerifier validatingAtSigningCertificateStart() {
        return new ModelVerifier(roots, trustedKey, clock, true);
    }

    /**
     * Verifies the model at {@code model} against the bundle in {@code signatureFile}, leaving the signature file out
     * when it lies inside the model folder.
     *
     * @throws IOException the signature or a model file cannot be read
     */
    public VerificationResult verify(Path model, Path signatureFile) throws IOException {
        byte[] bundle = Files.readAllBytes(signatureFile);
        return verify(ModelLocation.of(model).signatureFile(signatureFile), bundle);
    }

    /**
     * Verifies the model at {@code location} against {@code bundle}: signature and trust, then every file re-hashed
     * and compared with the signed manifest (paths the signature records as {@code ignore_paths} and the location's
     * exclusions are left out; signed files under the caller's ignore paths are not compared).
     *
     * @throws IOException a model file or directory cannot be read
     */
    public VerificationResult verify(ModelLocation location, byte[] bundle) throws IOException {
        String bundleSha256 = HexFormat.of().formatHex(FileHasher.sha256(bundle));
        try {
            Envelope envelope = openEnvelope(bundle);
            ModelManifest signed = Statements.decodeModel(envelope.payload());
            Map<String, Path> files = location.files(signed.ignorePaths());
            List<String> callerIgnored = location.callerIgnoredNames();
            Map<String, String> expected = new LinkedHashMap<>();
            signed.digests().forEach((name, digest) -> {
                if (!isUnder(name, callerIgnored)) {
                    expected.put(name, digest);
                }
            });
            Map<String, String> actual = new LinkedHashMap<>();
            HexFormat hex = HexFormat.of();
            for (Map.Entry<String, Path> e : files.entrySet()) {
                actual.put(e.getKey(), hex.formatHex(FileHasher.sha256(e.getValue())));
            }
            return compare(signed, expected, actual, bundleSha256, envelope);
        } catch (ModelSignatureException e) {
            return VerificationResult.failed(e.failure(), bundleSha256);
        }
    }

    /**
     * Verifies a model held in memory: {@code files} maps resource names to content (a single-file model has one
     * entry named {@code .}). The gateway hands exactly these verified bytes to its runtime; nothing is re-read.
     */
    public VerificationResult verifyFiles(Map<String, byte[]> files, byte[] bundle) {
        String bundleSha256 = HexFormat.of().formatHex(FileHasher.sha256(bundle));
        try {
            Envelope envelope = openEnvelope(bundle);
            ModelManifest signed = Statements.decodeModel(envelope.payload());
            Map<String, String> actual = new LinkedHashMap<>();
            HexFormat hex = HexFormat.of();
            for (Map.Entry<String, byte[]> e : files.entrySet()) {
                if (!isUnder(e.getKey(), signed.ignorePaths())) {
                    actual.put(e.getKey(), hex.formatHex(FileHasher.sha256(e.getValue())));
                }
            }
            return compare(signed, signed.digests(), actual, bundleSha256, envelope);
        } catch (ModelSignatureException e) {
            return VerificationResult.failed(e.failure(), bundleSha256);
        }
    }

    /** Verifies a single-file model held in memory; {@code content} is the file's exact bytes. */
    public VerificationResult verifySingleFile(byte[] content, byte[] bundle) {
        return verifyFiles(Map.of(ResourceNames.SINGLE_FILE, content), bundle);
    }

    /** Verifies a signed withdrawal. */
    public WithdrawalResult verifyWithdrawal(byte[] bundle) {
        try {
            Envelope envelope = openEnvelope(bundle);
            return new WithdrawalResult(null, Statements.decodeWithdrawal(envelope.payload()), envelope.chain());
        } catch (ModelSignatureException e) {
            return new WithdrawalResult(e.failure(), null, null);
        }
    }

    private static VerificationResult compare(ModelManifest signed, Map<String, String> expected,
                                              Map<String, String> actual, String bundleSha256, Envelope envelope) {
        ModelManifest expectedManifest = new ModelManifest(signed.modelName(), expected, signed.ignorePaths());
        List<FileDifference> differences = expectedManifest.differencesTo(actual);
        if (!differences.isEmpty()) {
            String summary = differences.size() == 1 ? differences.get(0).toString()
                    : differences.size() + " files differ, first: " + differences.get(0);
            return VerificationResult.failed(new VerificationFailure(FailureReason.DIGEST_MISMATCH,
                    "model does not match its signature: " + summary, differences), bundleSha256);
        }
        return VerificationResult.success(signed, expectedManifest, bundleSha256, envelope.chain(), envelope.key());
    }

    private static boolean isUnder(String name, List<String> prefixes) {
        for (String p : prefixes) {
            if (ResourceNames.isAtOrBelow(name, p)) {
                return true;
            }
        }
        return false;
    }

    /** A DSSE payload whose signature and signer were verified. */
    private record Envelope(byte[] payload, List<X509Certificate> chain, PublicKey key) {
    }

    private Envelope openEnvelope(byte[] bundleBytes) throws ModelSignatureException {
        SigstoreBundle bundle = SigstoreBundle.parse(bundleBytes);
        if (!SigstoreBundle.IN_TOTO_PAYLOAD_TYPE.equals(bundle.payloadType())) {
            throw Json.malformed("DSSE payloadType is '" + bundle.payloadType() + "', expected "
                    + SigstoreBundle.IN_TOTO_PAYLOAD_TYPE);
        }
        List<X509Certificate> chain = List.of();
        PublicKey key;
        if (trustedKey != null) {
            key = trustedKey;
        } else {
            if (!bundle.hasCertificateChain()) {
                throw new ModelSignatureException(FailureReason.UNTRUSTED_CHAIN,
                        "the bundle carries no certificate chain (signed in key mode?)");
            }
            chain = parseChain(bundle.certificateChainDer());
            validateChain(chain);
            key = chain.get(0).getPublicKey();
        }
        SignatureAlgorithms.Algorithm alg = SignatureAlgorithms.forKey(key);
        byte[] pae = SigstoreBundle.pae(bundle.payloadType(), bundle.payload());
        if (!SignatureAlgorithms.verify(alg, key, pae, bundle.signature())) {
            throw new ModelSignatureException(FailureReason.BAD_SIGNATURE,
                    "the DSSE signature does not verify with the " + (trustedKey != null ? "given public key"
                            : "signing certificate's key") + " (" + alg.description() + ")");
        }
        return new Envelope(bundle.payload(), chain, key);
    }

    private static List<X509Certificate> parseChain(List<byte[]> ders) throws ModelSignatureException {
        List<X509Certificate> chain = new ArrayList<>();
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            for (byte[] der : ders) {
                requireStrictDer(der);
                chain.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(der)));
            }
        } catch (CertificateException | RuntimeException e) {
            throw new ModelSignatureException(FailureReason.UNTRUSTED_CHAIN,
                    "a certificate in the bundle cannot be parsed");
        }
        return chain;
    }

    /**
     * Refuses a certificate that is not strict DER or whose signature BIT STRING declares unused bits: the JDK's
     * parser tolerates both, and neither is covered by the issuer's signature, so without this check a certificate
     * could change by a byte and still validate.
     */
    private static void requireStrictDer(byte[] der) throws ModelSignatureException {
        try {
            org.bouncycastle.asn1.x509.Certificate c = org.bouncycastle.asn1.x509.Certificate.getInstance(
                    org.bouncycastle.asn1.ASN1Primitive.fromByteArray(der));
            if (c.getSignature().getPadBits() != 0
                    || !java.util.Arrays.equals(c.getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER), der)) {
                throw new ModelSignatureException(FailureReason.UNTRUSTED_CHAIN,
                        "a certificate in the bundle is not in strict DER");
            }
        } catch (IOException | RuntimeException e) {
            throw new ModelSignatureException(FailureReason.UNTRUSTED_CHAIN,
                    "a certificate in the bundle cannot be parsed");
        }
    }

    /**
     * Validates the chain with PKIX (RFC 5280 section 6) to the configured roots, then the leaf's usage. Certificates
     * at the end of the chain equal to a trusted root are dropped; a leaf that is itself a trusted root is accepted.
     */
    private void validateChain(List<X509Certificate> chain) throws ModelSignatureException {
        X509Certificate leaf = chain.get(0);
        Date at = atSigningCertificateStart ? leaf.getNotBefore() : Date.from(clock.instant());
        List<X509Certificate> path = new ArrayList<>(chain);
        while (path.size() > 1 && roots.contains(path.get(path.size() - 1))) {
            path.remove(path.size() - 1);
        }
        try {
            if (path.size() == 1 && roots.contains(leaf)) {
                leaf.checkValidity(at);
            } else {
                PKIXParameters params = new PKIXParameters(anchors);
                params.setRevocationEnabled(false);
                params.setDate(at);
                CertificateFactory cf = CertificateFactory.getInstance("X.509");
                CertPathValidator.getInstance("PKIX").validate(cf.generateCertPath(path), params);
            }
        } catch (CertPathValidatorException e) {
            throw new ModelSignatureException(FailureReason.UNTRUSTED_CHAIN,
                    "the certificate chain does not validate to a trusted root: " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new ModelSignatureException(FailureReason.UNTRUSTED_CHAIN,
                    "the certificate chain cannot be validated: " + e.getMessage());
        }
        boolean[] keyUsage = leaf.getKeyUsage();
        boolean digitalSignature = keyUsage == null || keyUsage[0];
        boolean codeSigning = false;
        try {
            List<String> eku = leaf.getExtendedKeyUsage();
            codeSigning = eku != null && eku.contains("1.3.6.1.5.5.7.3.3");
        } catch (CertificateException e) {
            throw new ModelSignatureException(FailureReason.UNTRUSTED_CHAIN, "unreadable extended key usage");
        }
        if (!digitalSignature && !codeSigning) {
            throw new ModelSignatureException(FailureReason.UNTRUSTED_CHAIN,
                    "the signing certificate may not sign (no digitalSignature key usage, no codeSigning EKU)");
        }
    }
}
