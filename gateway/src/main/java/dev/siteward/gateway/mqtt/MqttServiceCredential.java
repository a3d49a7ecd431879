package dev.siteward.gateway.mqtt;

import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.IssuedCertificate;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.SecureFiles;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.ca.SiteCa;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The gateway's own MQTT client identity: a {@code service} certificate (URI SAN {@code spiffe://<td>/service/<name>},
 * CN {@code <name>}) in {@code <data>/mqtt/service.pem} with its key in {@code service-key.pem} (PKCS#8, 0600).
 * Issued when missing, and re-issued when a third of its lifetime is left, when revoked, or when the name changed.
 *
 * @param name  the service name
 * @param key   the private key
 * @param chain the certificate and its issuing CA
 */
public record MqttServiceCredential(String name, PrivateKey key, List<X509Certificate> chain) {

    /** Loads the credential from the data dir, issuing or re-issuing it through the CA when needed. */
    public static MqttServiceCredential ensure(Path dataDir, SiteCa ca, String name, Clock clock)
            throws IOException, GeneralSecurityException, PkiException {
        Path dir = SecureFiles.createPrivateDirectory(dataDir.resolve("mqtt"));
        Path keyFile = dir.resolve("service-key.pem");
        Path certFile = dir.resolve("service.pem");
        KeyPair keys;
        if (Files.exists(keyFile)) {
            PrivateKey k = KeyMaterial.readPrivateKey(Files.readString(keyFile));
            keys = new KeyPair(KeyMaterial.publicKeyOf(k), k);
        } else {
            keys = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
            SecureFiles.writeAtomically(keyFile, KeyMaterial.toPem(keys.getPrivate())
                    .getBytes(StandardCharsets.US_ASCII), true);
        }
        List<X509Certificate> chain = Files.exists(certFile)
                ? PemCodec.parseCertificates(Files.readString(certFile)) : List.of();
        if (chain.isEmpty() || due(chain.get(0), clock) || !chain.get(0).getPublicKey().equals(keys.getPublic())
                || !sameName(chain.get(0), name)
                || ca.registry().find(chain.get(0).getSerialNumber()).map(e -> e.revoked()).orElse(true)) {
            IssuedCertificate issued = ca.issue(new IssueRequest(KeyMaterial.certificationRequest(keys, name),
                    CertificateProfile.SERVICE, name, List.of(), List.of(), null, null));
            chain = List.of(issued.certificate(), issued.caChain().get(0));
            SecureFiles.writeAtomically(certFile, PemCodec.certificates(chain), false);
        }
        return new MqttServiceCredential(name, keys.getPrivate(), chain);
    }

    private static boolean sameName(X509Certificate c, String name) {
        SpiffeId id = Certificates.spiffeId(c);
        return id != null && id.kind() == SpiffeId.Kind.SERVICE && id.name().equals(name);
    }

    private static boolean due(X509Certificate c, Clock clock) {
        Instant start = c.getNotBefore().toInstant();
        Instant end = c.getNotAfter().toInstant();
        return clock.instant().isAfter(end.minus(Duration.between(start, end).dividedBy(3)));
    }
}
