package dev.siteward.gateway.models;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.util.Base64;
import dev.siteward.pki.CertificateProfile;
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
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's release key: an ES256 key with a SERVICE certificate {@code spiffe://<td>/service/release} issued by
 * the site CA, which signs the trust document and the per-device release metadata (JWS, RFC 7515, with
 * {@code x5c} = [release certificate, issuing CA], §4.1.6). Kept in {@code <data-dir>/gateway/release-key.pem}
 * (PKCS#8, 0600) and {@code release.pem} (leaf then issuing CA). Renewed with a fresh key when two thirds of the
 * certificate's lifetime have passed, when it was revoked, or when the issuing CA changed; a failed renewal keeps
 * the working credential.
 */
public final class ReleaseKey {

    private static final Logger LOG = LoggerFactory.getLogger(ReleaseKey.class);

    /** The service name in the certificate's SPIFFE ID. */
    public static final String SERVICE_NAME = "release";
    static final String KEY_FILE = "release-key.pem";
    static final String CERT_FILE = "release.pem";

    private final Path dir;
    private final SiteCa ca;
    private final Clock clock;
    private Credential current;

    private record Credential(PrivateKey key, List<X509Certificate> chain) {
    }

    private ReleaseKey(Path dir, SiteCa ca, Clock clock, Credential current) {
        this.dir = dir;
        this.ca = ca;
        this.clock = clock;
        this.current = current;
    }

    /** Loads the release credential from {@code <dataDir>/gateway/}, issuing or renewing it when due. */
    public static ReleaseKey ensure(Path dataDir, SiteCa ca, Clock clock)
            throws IOException, PkiException, GeneralSecurityException {
        Path dir = SecureFiles.createPrivateDirectory(dataDir.resolve("gateway"));
        ReleaseKey key = new ReleaseKey(dir, ca, clock, load(dir));
        if (key.current == null || key.due(key.current)) {
            key.renew();
        }
        return key;
    }

    private static Credential load(Path dir) {
        try {
            Path keyFile = dir.resolve(KEY_FILE);
            Path certFile = dir.resolve(CERT_FILE);
            if (!Files.exists(keyFile) || !Files.exists(certFile)) {
                return null;
            }
            PrivateKey key = KeyMaterial.readPrivateKey(Files.readString(keyFile));
            List<X509Certificate> chain = PemCodec.parseCertificates(Files.readString(certFile));
            if (chain.size() < 2 || !chain.get(0).getPublicKey().equals(KeyMaterial.publicKeyOf(key))) {
                return null;
            }
            return new Credential(key, List.copyOf(chain));
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            LOG.warn("release credential unreadable, issuing a new one: {}", e.getMessage());
            return null;
        }
    }

    private boolean due(Credential c) {
        X509Certificate leaf = c.chain().get(0);
        Instant start = leaf.getNotBefore().toInstant();
        Instant end = leaf.getNotAfter().toInstant();
        Instant renewAt = start.plus(Duration.between(start, end).multipliedBy(2).dividedBy(3));
        boolean revoked = ca.registry().find(leaf.getSerialNumber()).map(e -> e.revoked()).orElse(true);
        boolean otherIssuer = !leaf.getIssuerX500Principal()
                .equals(ca.issuingCertificate().getSubjectX500Principal());
        return !clock.instant().isBefore(renewAt) || revoked || otherIssuer;
    }

    private void renew() throws IOException, PkiException, GeneralSecurityException {
        KeyPair pair = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        IssuedCertificate issued = ca.issue(new IssueRequest(KeyMaterial.certificationRequest(pair, SERVICE_NAME),
                CertificateProfile.SERVICE, SERVICE_NAME, List.of(), List.of(), null, null));
        // with the rollover certificates of a root rollover, so devices that pinned either root validate it
        List<X509Certificate> chain = ca.servedChain(issued.certificate());
        // key first under a temporary name, then the certificate, then the key into place: a crash in between
        // leaves a key/certificate pair that does not match, which load() treats as missing
        Path keyTemp = dir.resolve(KEY_FILE + ".new");
        Files.deleteIfExists(keyTemp);
        SecureFiles.createSecret(keyTemp, KeyMaterial.toPem(pair.getPrivate()).getBytes(StandardCharsets.US_ASCII));
        SecureFiles.writeAtomically(dir.resolve(CERT_FILE), PemCodec.certificates(chain), false);
        Files.move(keyTemp, dir.resolve(KEY_FILE), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        current = new Credential(pair.getPrivate(), chain);
        LOG.info("release certificate issued: serial {}, valid until {}", issued.certificate().getSerialNumber()
                .toString(16), issued.certificate().getNotAfter().toInstant());
    }

    /** Renews the credential if it is due; a failure is logged and the current credential stays in use. */
    public synchronized void renewIfDue() {
        if (!due(current)) {
            return;
        }
        try {
            renew();
        } catch (IOException | PkiException | GeneralSecurityException | RuntimeException e) {
            LOG.error("release certificate renewal failed; still signing with serial {}: {}",
                    current.chain().get(0).getSerialNumber().toString(16), e.getMessage());
        }
    }

    /** The certificate chain that signs: release certificate, then the issuing CA. */
    public synchronized List<X509Certificate> chain() {
        return current.chain();
    }

    /**
     * Signs {@code payload} (UTF-8 JSON) as a compact JWS with {@code alg: ES256}, {@code typ} and {@code x5c};
     * renews the certificate first when it is due.
     */
    public String sign(String typ, byte[] payload) {
        Credential c;
        synchronized (this) {
            renewIfDue();
            c = current;
        }
        try {
            List<Base64> x5c = new ArrayList<>();
            for (X509Certificate cert : c.chain()) {
                x5c.add(Base64.encode(cert.getEncoded()));
            }
            JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType(typ))
                    .x509CertChain(x5c).build();
            JWSObject jws = new JWSObject(header, new Payload(payload));
            ECDSASigner signer = new ECDSASigner((ECPrivateKey) c.key());
            signer.getJCAContext().setProvider(dev.siteward.pki.CryptoProviders.bouncyCastle());
            jws.sign(signer);
            return jws.serialize();
        } catch (JOSEException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot sign with the release key: " + e.getMessage(), e);
        }
    }
}
