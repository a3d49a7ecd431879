package dev.siteward.pki.modelsig;

import dev.siteward.pki.KeyMaterial;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Signs models (hash, manifest, sign) and withdrawals in the OpenSSF model-signing v1.0 format.
 *
 * <p>Two modes, as in the reference implementation: <em>certificate</em> (the bundle carries the signing certificate
 * and its intermediates, leaf first) and <em>public key</em> (the bundle carries only a hint; the verifier is given
 * the key). The private key may live in a PKCS#11 token: pass its provider and the key never leaves the token.
 * Every signature is checked with the public key before it is returned (a mismatched certificate or a faulty token
 * yields an error, never a bad bundle).
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ModelSigner {

    private final PrivateKey privateKey;
    private final PublicKey publicKey;
    private final List<X509Certificate> chain;
    private final Provider provider;

    private ModelSigner(PrivateKey privateKey, PublicKey publicKey, List<X509Certificate> chain, Provider provider) {
        this.privateKey = Objects.requireNonNull(privateKey, "privateKey");
        this.publicKey = Objects.requireNonNull(publicKey, "publicKey");
        this.chain = List.copyOf(chain);
        this.provider = provider;
    }

    /**
     * Returns a key-mode signer. {@code publicKey} is the key paired with {@code privateKey} (for a software key,
     * {@link KeyMaterial#publicKeyOf(PrivateKey)}); it is recorded as a hint and used to check each signature.
     */
    public static ModelSigner withPublicKey(PrivateKey privateKey, PublicKey publicKey) {
        return new ModelSigner(privateKey, publicKey, List.of(), null);
    }

    /** Returns a certificate-mode signer; {@code chain} is the signing certificate first, then intermediates. */
    public static ModelSigner withCertificateChain(PrivateKey privateKey, List<X509Certificate> chain) {
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("the certificate chain is empty");
        }
        return new ModelSigner(privateKey, chain.get(0).getPublicKey(), chain, null);
    }

    /** Returns a copy that signs with {@code provider} (e.g. a SunPKCS11 instance holding the key). */
    public ModelSigner withProvider(Provider provider) {
        return new ModelSigner(privateKey, publicKey, chain, Objects.requireNonNull(provider, "provider"));
    }

    /**
     * Hashes the model at {@code location} and signs its manifest.
     *
     * <p>{@code ignore_paths} is recorded in the signature when the location has caller ignore paths inside the
     * model; it then lists them with the signature file and git metadata, as later format versions do.
     *
     * @throws ModelSignatureException a symbolic link or special file in the model, an empty model, an unsupported
     *     key, or a signature that does not verify with the public key
     * @throws IOException a file cannot be read
     */
    public SignedModel sign(ModelLocation location) throws IOException, ModelSignatureException {
        Map<String, java.nio.file.Path> files = location.files(List.of());
        if (files.isEmpty()) {
            throw new ModelSignatureException(FailureReason.EMPTY_MODEL,
                    "the model contains no regular file after exclusions");
        }
        Map<String, String> digests = new LinkedHashMap<>();
        HexFormat hex = HexFormat.of();
        for (Map.Entry<String, java.nio.file.Path> e : files.entrySet()) {
            digests.put(e.getKey(), hex.formatHex(FileHasher.sha256(e.getValue())));
        }
        boolean recordIgnores = location.hasCallerIgnorePaths();
        ModelManifest manifest = ModelManifest.sorted(location.modelName(), digests,
                recordIgnores ? location.excludedNames() : List.of());
        byte[] payload = Statements.encodeModel(manifest, recordIgnores);
        return new SignedModel(manifest, signPayload(payload));
    }

    /** Signs a withdrawal statement and returns the bundle bytes. */
    public byte[] signWithdrawal(Withdrawal withdrawal) throws ModelSignatureException {
        return signPayload(Statements.encodeWithdrawal(withdrawal));
    }

    private byte[] signPayload(byte[] payload) throws ModelSignatureException {
        SignatureAlgorithms.Algorithm alg = SignatureAlgorithms.forKey(publicKey);
        byte[] pae = SigstoreBundle.pae(SigstoreBundle.IN_TOTO_PAYLOAD_TYPE, payload);
        byte[] signature;
        try {
            signature = SignatureAlgorithms.sign(alg, privateKey, provider, pae);
        } catch (GeneralSecurityException e) {
            throw new ModelSignatureException(FailureReason.UNSUPPORTED_ALGORITHM,
                    "signing with " + alg.description() + " failed: " + e.getMessage());
        }
        if (!SignatureAlgorithms.verify(alg, publicKey, pae, signature)) {
            throw new ModelSignatureException(FailureReason.BAD_SIGNATURE,
                    "the new signature does not verify with the public key: key and certificate do not match");
        }
        List<byte[]> der = new ArrayList<>();
        for (X509Certificate c : chain) {
            try {
                der.add(c.getEncoded());
            } catch (CertificateEncodingException e) {
                throw new IllegalArgumentException("certificate cannot be encoded", e);
            }
        }
        String hint = chain.isEmpty() ? publicKeyHint(publicKey) : null;
        return new SigstoreBundle(der, hint, SigstoreBundle.IN_TOTO_PAYLOAD_TYPE, payload, signature).toJson();
    }

    /**
     * Returns the reference implementation's key hint: hex SHA-256 of the PEM SubjectPublicKeyInfo (64-character
     * base64 lines, trailing newline).
     */
    static String publicKeyHint(PublicKey key) {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(key.getEncoded());
        String pem = "-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\n";
        return HexFormat.of().formatHex(FileHasher.sha256(pem.getBytes(StandardCharsets.US_ASCII)));
    }
}
