package dev.siteward.gateway.authorization;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.CryptoProviders;
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
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.UUID;

/**
 * Signs action grants: compact JWS (ES256) with {@code x5c = [grant certificate, issuing CA]}, where the grant
 * certificate is a SERVICE certificate {@code spiffe://<trust-domain>/service/grants} issued by the site CA. Claims:
 * {@code iss} (that identity), {@code sub} (the subject's SPIFFE id), {@code aud} (the resource id), {@code action},
 * {@code jti} (unique), {@code did} (the decision id), {@code iat}, {@code nbf}, {@code exp} (at most
 * {@link #MAX_TTL} after {@code iat}). Header {@code typ} is {@value #TYPE}.
 *
 * <p>The key is {@code <data-dir>/gateway/grant-key.pem} (0600) and the certificate {@code grant.pem}; the certificate
 * is re-issued when a third of its lifetime is left, when the issuing CA changed, or when it was revoked.
 */
public final class GrantIssuer {

    /** The service name of the grant certificate. */
    public static final String SERVICE_NAME = "grants";
    /** The JWS {@code typ} of a grant. */
    public static final String TYPE = "siteward-grant+jwt";
    /** Grants live at most this long. */
    public static final Duration MAX_TTL = Duration.ofSeconds(30);

    /**
     * A signed grant.
     *
     * @param id      its {@code jti}
     * @param token   the compact JWS
     * @param expires its {@code exp}
     */
    public record Grant(String id, String token, Instant expires) {
    }

    private final Path dir;
    private final SiteCa ca;
    private final Clock clock;
    private final Duration ttl;
    private final KeyPair key;
    private final ECDSASigner signer;
    private volatile Credential credential;

    private record Credential(X509Certificate certificate, List<Base64> x5c, Instant renewAt, X509Certificate issuer) {
    }

    /** Loads or creates the grant key and certificate in {@code <dataDir>/gateway/}. */
    public GrantIssuer(Path dataDir, SiteCa ca, Clock clock, Duration ttl) throws IOException, GeneralSecurityException,
            PkiException, JOSEException {
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TTL) > 0) {
            throw new IllegalArgumentException("grant lifetime must be between 1s and " + MAX_TTL.toSeconds() + "s");
        }
        this.dir = SecureFiles.createPrivateDirectory(dataDir.resolve("gateway"));
        this.ca = ca;
        this.clock = clock;
        this.ttl = ttl;
        this.key = keyPair(dir.resolve("grant-key.pem"));
        this.signer = new ECDSASigner((ECPrivateKey) key.getPrivate());
        signer.getJCAContext().setProvider(CryptoProviders.bouncyCastle());
        this.credential = ensure();
    }

    /** The identity grants are signed as. */
    public SpiffeId identity() {
        return new SpiffeId(ca.trustDomain(), SpiffeId.Kind.SERVICE, SERVICE_NAME);
    }

    /** The current grant certificate. */
    public X509Certificate certificate() {
        return credential.certificate();
    }

    /** Signs a grant for {@code subject} to do {@code action} on {@code audience}, for decision {@code decisionId}. */
    public Grant issue(String subject, String action, String audience, String decisionId) throws GrantException {
        Credential c = current();
        Instant now = clock.instant();
        Instant exp = now.plus(ttl);
        String jti = UUID.randomUUID().toString();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(identity().toString())
                .subject(subject)
                .audience(audience)
                .claim("action", action)
                .claim("did", decisionId)
                .jwtID(jti)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(exp))
                .build();
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType(TYPE))
                .x509CertChain(c.x5c()).build();
        SignedJWT jwt = new SignedJWT(header, claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new GrantException("cannot sign the grant: " + e.getMessage(), e);
        }
        return new Grant(jti, jwt.serialize(), exp.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    }

    /**
     * Renews the grant certificate if it is due (two thirds of its lifetime, or issued by a rotated-out CA) — the
     * same check every grant makes; a failure is logged and the current certificate stays.
     */
    public void renewIfDue() {
        try {
            current();
        } catch (GrantException e) {
            org.slf4j.LoggerFactory.getLogger(GrantIssuer.class).warn("grant certificate renewal failed: {}",
                    e.getMessage());
        }
    }

    private Credential current() throws GrantException {
        Credential c = credential;
        if (clock.instant().isBefore(c.renewAt()) && c.issuer().equals(ca.issuingCertificate())) {
            return c;
        }
        synchronized (this) {
            try {
                credential = ensure();
            } catch (IOException | GeneralSecurityException | PkiException e) {
                throw new GrantException("cannot renew the grant certificate: " + e.getMessage(), e);
            }
            return credential;
        }
    }

    private Credential ensure() throws IOException, GeneralSecurityException, PkiException {
        Path pem = dir.resolve("grant.pem");
        List<X509Certificate> chain = Files.exists(pem) ? PemCodec.parseCertificates(Files.readString(pem))
                : List.of();
        Instant now = clock.instant();
        X509Certificate issuing = ca.issuingCertificate();
        boolean due = chain.size() < 2 || renewAt(chain.get(0)).isBefore(now)
                || !chain.get(0).getPublicKey().equals(key.getPublic())
                || !chain.get(1).equals(issuing)
                || ca.registry().find(chain.get(0).getSerialNumber()).map(e -> e.revoked()).orElse(true);
        if (due) {
            ca.unlock();
            IssuedCertificate issued = ca.issue(new IssueRequest(KeyMaterial.certificationRequest(key, SERVICE_NAME),
                    CertificateProfile.SERVICE, SERVICE_NAME, List.of(), List.of(), null, null));
            chain = List.of(issued.certificate(), issued.caChain().get(0));
            SecureFiles.writeAtomically(pem, PemCodec.certificates(chain), false);
        }
        try {
            // leaf, issuing CA, and during a root rollover the rollover certificates (each certifies the one
            // before it), so an actuator that pinned either root validates the grant
            List<Base64> x5c = new java.util.ArrayList<>();
            for (X509Certificate c : ca.servedChain(chain.get(0))) {
                x5c.add(Base64.encode(c.getEncoded()));
            }
            return new Credential(chain.get(0), x5c, renewAt(chain.get(0)), chain.get(1));
        } catch (CertificateEncodingException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static Instant renewAt(X509Certificate c) {
        Instant start = c.getNotBefore().toInstant();
        Instant end = c.getNotAfter().toInstant();
        return end.minus(Duration.between(start, end).dividedBy(3));
    }

    private static KeyPair keyPair(Path file) throws IOException, GeneralSecurityException {
        if (Files.exists(file)) {
            PrivateKey k = KeyMaterial.readPrivateKey(Files.readString(file));
            return new KeyPair(KeyMaterial.publicKeyOf(k), k);
        }
        KeyPair pair = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        SecureFiles.createSecret(file, KeyMaterial.toPem(pair.getPrivate()).getBytes(StandardCharsets.US_ASCII));
        return pair;
    }

    /** A grant could not be signed (the caller answers 503; the decision is still recorded). */
    public static final class GrantException extends Exception {
        public GrantException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
