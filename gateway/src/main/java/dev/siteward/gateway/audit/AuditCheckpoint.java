package dev.siteward.gateway.audit;

import dev.siteward.pki.Certificates;
import dev.siteward.pki.CryptoProviders;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.SpiffeId;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Set;

/**
 * A signed statement "record {@code seq} has hash {@code hash}", made by the gateway's audit key at
 * {@code signedAt}. Stored checkpoints use the domain {@link #CHECKPOINT}; the head file uses {@link #HEAD}. The
 * signed bytes are the UTF-8 text {@code <domain>\n<seq>\n<hash>\n<signedAt>\n}; the signature is ES256 (DER,
 * base64); {@code certificates} is the PEM chain (audit certificate, issuing CA) that leads to the site root.
 */
public record AuditCheckpoint(long seq, String hash, Instant signedAt, String keyId, String signature,
                              String certificates) {

    public static final String CHECKPOINT = "siteward-audit-checkpoint/1";
    public static final String HEAD = "siteward-audit-head/1";

    static AuditCheckpoint sign(String domain, long seq, String hash, Instant at, AuditKey key)
            throws GeneralSecurityException {
        Instant t = Instant.parse(AuditRecord.formatTime(at));
        byte[] sig = key.sign(signedBytes(domain, seq, hash, t));
        return new AuditCheckpoint(seq, hash, t, key.keyId(), Base64.getEncoder().encodeToString(sig),
                key.chainPem());
    }

    public static byte[] signedBytes(String domain, long seq, String hash, Instant signedAt) {
        return (domain + "\n" + seq + "\n" + hash + "\n" + AuditRecord.formatTime(signedAt) + "\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Null when the signature is valid and made by a {@code service/gateway-audit} certificate that chains to the
     * root and was valid at {@code signedAt}; otherwise what is wrong.
     */
    public String problem(String domain, X509Certificate root) {
        List<X509Certificate> chain;
        try {
            chain = PemCodec.parseCertificates(certificates);
        } catch (Exception e) {
            return "its certificates are unreadable";
        }
        if (chain.isEmpty()) {
            return "it carries no certificate";
        }
        X509Certificate leaf = chain.get(0);
        try {
            PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
            params.setRevocationEnabled(false);
            params.setDate(Date.from(signedAt));
            CertPathValidator.getInstance("PKIX").validate(
                    CertificateFactory.getInstance("X.509").generateCertPath(chain), params);
        } catch (GeneralSecurityException e) {
            return "its certificate does not chain to the site root at " + signedAt + " (" + e.getMessage() + ")";
        }
        SpiffeId id = Certificates.spiffeId(leaf);
        if (id == null || id.kind() != SpiffeId.Kind.SERVICE || !AuditKey.SERVICE_NAME.equals(id.name())) {
            return "its certificate is not the gateway's audit certificate";
        }
        try {
            Signature s = Signature.getInstance("SHA256withECDSA", CryptoProviders.bouncyCastle());
            s.initVerify(leaf.getPublicKey());
            s.update(signedBytes(domain, seq, hash, signedAt));
            if (!s.verify(Base64.getDecoder().decode(signature))) {
                return "its signature is invalid";
            }
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return "its signature is invalid (" + e.getMessage() + ")";
        }
        return null;
    }
}
