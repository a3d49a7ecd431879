package dev.siteward.pki.modelsig;

import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The outcome of verifying a model signature.
 *
 * <p>On success: the signed model name, the number of files, the digests computed from the bytes that were verified
 * (resource name to SHA-256 hex, in manifest order), the subject (root) digest, the bundle's own SHA-256, and who
 * signed. On failure: {@link #failure()} with its reason and, for a digest mismatch, the per-file differences.
 */
public final class VerificationResult {

    private final VerificationFailure failure;
    private final ModelManifest manifest;
    private final ModelManifest verified;
    private final String bundleSha256;
    private final List<X509Certificate> signerChain;
    private final PublicKey signerKey;

    private VerificationResult(VerificationFailure failure, ModelManifest manifest, ModelManifest verified,
                               String bundleSha256, List<X509Certificate> signerChain, PublicKey signerKey) {
        this.failure = failure;
        this.manifest = manifest;
        this.verified = verified;
        this.bundleSha256 = bundleSha256;
        this.signerChain = signerChain == null ? List.of() : List.copyOf(signerChain);
        this.signerKey = signerKey;
    }

    static VerificationResult success(ModelManifest signed, ModelManifest verified, String bundleSha256,
                                      List<X509Certificate> chain, PublicKey key) {
        return new VerificationResult(null, signed, verified, bundleSha256, chain, key);
    }

    static VerificationResult failed(VerificationFailure failure, String bundleSha256) {
        return new VerificationResult(failure, null, null, bundleSha256, null, null);
    }

    /** Returns true when the signature, the trust and every file digest checked out. */
    public boolean verified() {
        return failure == null;
    }

    /** Returns why verification failed, or empty when it succeeded. */
    public Optional<VerificationFailure> failure() {
        return Optional.ofNullable(failure);
    }

    /** Returns this result when verified, else throws the failure as a {@link ModelSignatureException}. */
    public VerificationResult orThrow() throws ModelSignatureException {
        if (failure != null) {
            throw new ModelSignatureException(failure);
        }
        return this;
    }

    /** Returns the signed model name (the statement's subject name). */
    public String modelName() {
        return verifiedManifest().modelName();
    }

    /** Returns how many files were verified (signed files the caller chose to ignore are not counted). */
    public int fileCount() {
        verifiedManifest();
        return verified.fileCount();
    }

    /**
     * Returns resource name to SHA-256 (lower-case hex) of each verified file, in manifest order: equal to the signed
     * digests and computed from the bytes that were read. A single-file model has one entry named {@code .}.
     */
    public Map<String, String> fileDigests() {
        verifiedManifest();
        return verified.digests();
    }

    /** Returns the signed manifest (model name, digests, recorded ignore paths). */
    public ModelManifest manifest() {
        return verifiedManifest();
    }

    /** Returns the statement's subject digest (SHA-256 over the concatenated raw file digests). */
    public String rootDigest() {
        return verifiedManifest().rootDigest();
    }

    /** Returns SHA-256 (hex) of the bundle bytes as given, whether or not verification succeeded. */
    public String bundleSha256() {
        return bundleSha256;
    }

    /** Returns the bundle's certificate chain (leaf first) in certificate mode, else an empty list. */
    public List<X509Certificate> signerChain() {
        return signerChain;
    }

    /** Returns the key that verified the signature (the leaf's key in certificate mode). */
    public PublicKey signerKey() {
        verifiedManifest();
        return signerKey;
    }

    private ModelManifest verifiedManifest() {
        if (failure != null) {
            throw new IllegalStateException("verification failed: " + failure);
        }
        return manifest;
    }

    @Override
    public String toString() {
        return failure == null
                ? "verified " + manifest.modelName() + ": " + verified.fileCount() + " files"
                : "verification failed: " + failure;
    }
}
