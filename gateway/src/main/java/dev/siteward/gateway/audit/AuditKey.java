package dev.siteward.gateway.audit;

import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.CryptoProviders;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.IssuedCertificate;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.SecureFiles;
import dev.siteward.pki.ca.SiteCa;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/**
 * The gateway's audit signing key (EC P-256, ES256) and its certificate from the site CA, kept like the gateway's
 * other credentials: {@code gateway/audit-key.pem} (PKCS#8, 0600) and {@code gateway/audit.pem} (certificate, then
 * the issuing CA). The certificate is a service certificate for {@code spiffe://<trust-domain>/service/gateway-audit},
 * so a verifier needs only the site root. It is re-issued when a third of its lifetime is left, revoked or issued
 * by a rotated-out CA; the key stays.
 */
public final class AuditKey {

    /** The service name in the audit certificate's URI SAN. */
    public static final String SERVICE_NAME = "gateway-audit";
    /** The audit certificate's lifetime: a year (checkpoints stay verifiable after it expires). */
    public static final Duration TTL = Duration.ofDays(365);

    private final PrivateKey key;
    private final List<X509Certificate> chain;
    private final String keyId;
    private final String chainPem;

    AuditKey(PrivateKey key, List<X509Certificate> chain) {
        this.key = key;
        this.chain = List.copyOf(chain);
        this.keyId = HexFormat.of().formatHex(Certificates.sha256(chain.get(0).getPublicKey().getEncoded()))
                .substring(0, 16);
        this.chainPem = PemCodec.certificates(chain);
    }

    /** Loads the audit key and certificate, generating or (re-)issuing what is missing or due. */
    public static AuditKey ensure(Path dataDir, SiteCa ca, Clock clock)
            throws IOException, GeneralSecurityException, PkiException {
        Path gw = SecureFiles.createPrivateDirectory(dataDir.resolve("gateway"));
        Path keyFile = gw.resolve("audit-key.pem");
        KeyPair pair;
        if (Files.exists(keyFile)) {
            PrivateKey k = KeyMaterial.readPrivateKey(Files.readString(keyFile));
            pair = new KeyPair(KeyMaterial.publicKeyOf(k), k);
        } else {
            pair = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
            SecureFiles.createSecret(keyFile, KeyMaterial.toPem(pair.getPrivate()).getBytes(StandardCharsets.US_ASCII));
        }
        Path certFile = gw.resolve("audit.pem");
        List<X509Certificate> chain = Files.exists(certFile)
                ? PemCodec.parseCertificates(Files.readString(certFile)) : List.of();
        if (chain.size() < 2 || due(chain.get(0), clock) || !chain.get(0).getPublicKey().equals(pair.getPublic())
                || ca.registry().find(chain.get(0).getSerialNumber()).map(e -> e.revoked()).orElse(true)
                || !ca.issuingCertificates().contains(chain.get(1))) {
            ca.unlock();
            IssuedCertificate issued = ca.issue(new IssueRequest(KeyMaterial.certificationRequest(pair,
                    SERVICE_NAME), CertificateProfile.SERVICE, SERVICE_NAME, List.of(), List.of(), TTL, null));
            chain = List.of(issued.certificate(), issued.caChain().get(0));
            SecureFiles.writeAtomically(certFile, PemCodec.certificates(chain), false);
        }
        return new AuditKey(pair.getPrivate(), chain);
    }

    /** Whether a third or less of the certificate's lifetime is left. */
    public boolean renewalDue(Clock clock) {
        return due(chain.get(0), clock);
    }

    private static boolean due(X509Certificate c, Clock clock) {
        Instant start = c.getNotBefore().toInstant();
        Instant end = c.getNotAfter().toInstant();
        return clock.instant().isAfter(end.minus(Duration.between(start, end).dividedBy(3)));
    }

    /** An ES256 signature (DER, as {@code openssl dgst -sha256 -verify} reads it) over the bytes. */
    byte[] sign(byte[] data) throws GeneralSecurityException {
        Signature s = Signature.getInstance("SHA256withECDSA", CryptoProviders.bouncyCastle());
        s.initSign(key);
        s.update(data);
        return s.sign();
    }

    public String keyId() {
        return keyId;
    }

    public List<X509Certificate> chain() {
        return chain;
    }

    /** The certificate chain as PEM, leaf first. */
    public String chainPem() {
        return chainPem;
    }
}
