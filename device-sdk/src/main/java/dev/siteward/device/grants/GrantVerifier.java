package dev.siteward.device.grants;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.siteward.device.trust.PinnedRoot;
import dev.siteward.device.trust.UntrustedChainException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Objects;

/**
 * Verifies action grants offline, on the actuator: a compact JWS (ES256, {@code typ siteward-grant+jwt}) whose
 * {@code x5c} chain validates to the pinned site root and whose signing certificate is the site's grant service
 * ({@code spiffe://<trust-domain>/service/grants}); audience = this actuator's id; within {@code nbf}/{@code exp}
 * (with a small clock skew); lifetime at most {@link #MAX_LIFETIME}; for the expected action; and used once: the
 * grant id is recorded in {@link UsedGrants} (on disk, until it expires) before the grant is accepted.
 *
 * <pre>{@code
 * GrantVerifier verifier = new GrantVerifier(siteRoot, "plant-north.example", "valve-a-07",
 *         UsedGrants.open(dir.resolve("used-grants"), clock, UsedGrants.DEFAULT_CAPACITY), clock);
 * VerifiedGrant g = verifier.verify(token, "valve.open");   // throws GrantRefusedException: do not act
 * }</pre>
 */
public final class GrantVerifier {

    /** The JWS type of a grant. */
    public static final String TYPE = "siteward-grant+jwt";
    /** Default tolerated clock difference between gateway and actuator. */
    public static final Duration DEFAULT_SKEW = Duration.ofSeconds(5);
    /** Grants claiming a longer life are refused (the gateway issues at most 30 s). */
    public static final Duration MAX_LIFETIME = Duration.ofSeconds(60);

    private final PinnedRoot root;
    private final String grantService;
    private final String actuatorId;
    private final UsedGrants used;
    private final Clock clock;
    private final Duration skew;

    /**
     * @param siteRoot    the pinned site root (the device's {@code root.pem})
     * @param trustDomain the site's trust domain
     * @param actuatorId  this actuator's id: the only audience accepted
     * @param used        where used grant ids are kept
     * @param clock       the time
     */
    public GrantVerifier(X509Certificate siteRoot, String trustDomain, String actuatorId, UsedGrants used,
                         Clock clock) {
        this(siteRoot, trustDomain, actuatorId, used, clock, DEFAULT_SKEW);
    }

    public GrantVerifier(X509Certificate siteRoot, String trustDomain, String actuatorId, UsedGrants used,
                         Clock clock, Duration skew) {
        this.root = new PinnedRoot(Objects.requireNonNull(siteRoot, "siteRoot"));
        this.grantService = "spiffe://" + Objects.requireNonNull(trustDomain, "trustDomain") + "/service/grants";
        this.actuatorId = Objects.requireNonNull(actuatorId, "actuatorId");
        this.used = Objects.requireNonNull(used, "used");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (skew.isNegative() || skew.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new IllegalArgumentException("clock skew must be between 0 and 60 s");
        }
        this.skew = skew;
    }

    /**
     * Verifies {@code token} for {@code action} and marks it used.
     *
     * @throws GrantRefusedException the grant must not be acted on; the reason says why
     */
    public VerifiedGrant verify(String token, String action) throws GrantRefusedException {
        if (token == null || token.length() > 16_384) {
            throw new GrantRefusedException(GrantRefusedException.Reason.MALFORMED, "no grant, or too large");
        }
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(token);
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new GrantRefusedException(GrantRefusedException.Reason.MALFORMED, "not a signed JWT", e);
        }
        JWSHeader header = jwt.getHeader();
        if (!JWSAlgorithm.ES256.equals(header.getAlgorithm())) {
            throw new GrantRefusedException(GrantRefusedException.Reason.ALGORITHM, "algorithm "
                    + header.getAlgorithm() + " is not ES256");
        }
        if (header.getType() == null || !TYPE.equals(header.getType().getType())) {
            throw new GrantRefusedException(GrantRefusedException.Reason.ALGORITHM, "not a grant (typ "
                    + header.getType() + ")");
        }
        Instant now = clock.instant();
        X509Certificate signer = validateChain(header.getX509CertChain(), now);
        try {
            ECDSAVerifier verifier = new ECDSAVerifier((ECPublicKey) signer.getPublicKey());
            if (!jwt.verify(verifier)) {
                throw new GrantRefusedException(GrantRefusedException.Reason.BAD_SIGNATURE,
                        "the signature does not verify with the grant certificate's key");
            }
        } catch (JOSEException | ClassCastException e) {
            throw new GrantRefusedException(GrantRefusedException.Reason.BAD_SIGNATURE, "the signature cannot be "
                    + "verified: " + e.getMessage(), e);
        }
        if (!grantService.equals(claims.getIssuer())) {
            throw new GrantRefusedException(GrantRefusedException.Reason.NOT_GRANT_SERVICE, "issuer "
                    + claims.getIssuer() + " is not " + grantService);
        }
        List<String> aud = claims.getAudience();
        if (aud == null || aud.size() != 1 || !actuatorId.equals(aud.get(0))) {
            throw new GrantRefusedException(GrantRefusedException.Reason.WRONG_AUDIENCE, "the grant is for " + aud
                    + ", not for " + actuatorId);
        }
        Object act = claims.getClaim("action");
        if (!(act instanceof String a) || !a.equals(action)) {
            throw new GrantRefusedException(GrantRefusedException.Reason.WRONG_ACTION, "the grant is for action "
                    + act + ", not " + action);
        }
        Instant exp = instant(claims.getExpirationTime(), "exp");
        Instant iat = instant(claims.getIssueTime(), "iat");
        Instant nbf = claims.getNotBeforeTime() == null ? iat : claims.getNotBeforeTime().toInstant();
        if (Duration.between(iat, exp).compareTo(MAX_LIFETIME) > 0 || exp.isBefore(iat)) {
            throw new GrantRefusedException(GrantRefusedException.Reason.TOO_LONG, "the grant claims a lifetime of "
                    + Duration.between(iat, exp).toSeconds() + " s (at most " + MAX_LIFETIME.toSeconds() + " s)");
        }
        if (!now.isBefore(exp.plus(skew))) {
            throw new GrantRefusedException(GrantRefusedException.Reason.EXPIRED, "the grant expired at " + exp);
        }
        if (now.plus(skew).isBefore(nbf)) {
            throw new GrantRefusedException(GrantRefusedException.Reason.NOT_YET_VALID, "the grant is valid from "
                    + nbf);
        }
        String jti = claims.getJWTID();
        if (jti == null || jti.isBlank() || jti.length() > 128 || jti.contains(" ") || jti.contains("\n")) {
            throw new GrantRefusedException(GrantRefusedException.Reason.MALFORMED, "the grant has no usable id");
        }
        try {
            if (!used.markUsed(jti, exp.plus(skew))) {
                throw new GrantRefusedException(GrantRefusedException.Reason.REPLAYED, "grant " + jti
                        + " was used before");
            }
        } catch (IOException e) {
            throw new GrantRefusedException(GrantRefusedException.Reason.STORE_UNAVAILABLE, "cannot record the "
                    + "grant as used: " + e.getMessage(), e);
        }
        Object did = claims.getClaim("did");
        return new VerifiedGrant(jti, claims.getSubject(), action, actuatorId, did instanceof String d ? d : null,
                exp);
    }

    private X509Certificate validateChain(List<Base64> x5c, Instant now) throws GrantRefusedException {
        if (x5c == null || x5c.isEmpty() || x5c.size() > 4) {
            throw new GrantRefusedException(GrantRefusedException.Reason.UNTRUSTED_CHAIN,
                    "the grant carries no usable x5c chain");
        }
        List<X509Certificate> chain = new ArrayList<>();
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            for (Base64 b : x5c) {
                chain.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(b.decode())));
            }
        } catch (CertificateException | RuntimeException e) {
            throw new GrantRefusedException(GrantRefusedException.Reason.UNTRUSTED_CHAIN,
                    "a certificate in x5c cannot be parsed", e);
        }
        try {
            root.validate(chain, PinnedRoot.Purpose.CLIENT_AUTH, now);
        } catch (UntrustedChainException e) {
            throw new GrantRefusedException(GrantRefusedException.Reason.UNTRUSTED_CHAIN, e.getMessage(), e);
        }
        X509Certificate leaf = chain.get(0);
        if (!uriSans(leaf).equals(List.of(grantService))) {
            throw new GrantRefusedException(GrantRefusedException.Reason.NOT_GRANT_SERVICE, "the signing "
                    + "certificate is not " + grantService);
        }
        return leaf;
    }

    private static List<String> uriSans(X509Certificate c) throws GrantRefusedException {
        List<String> out = new ArrayList<>();
        try {
            Collection<List<?>> sans = c.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (Integer.valueOf(6).equals(san.get(0))) {
                        out.add((String) san.get(1));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new GrantRefusedException(GrantRefusedException.Reason.NOT_GRANT_SERVICE, "unreadable SAN", e);
        }
        return out;
    }

    private static Instant instant(Date d, String claim) throws GrantRefusedException {
        if (d == null) {
            throw new GrantRefusedException(GrantRefusedException.Reason.MALFORMED, "the grant has no " + claim);
        }
        return d.toInstant();
    }
}
