package dev.siteward.gateway.enrollment;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.devices.Labels;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.SpiffeId;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One-time enrollment tokens: JWTs (ES256, RFC 7519) signed by the gateway's token key, bound to one device id,
 * carrying the site root fingerprint, expiring. Every token is recorded when created; it is consumed in the
 * database when first used, bound to the public key of the CSR it was used with, so a retry with the same key
 * after a lost response gets the same certificate and any other use is refused — also across restarts.
 */
public final class EnrollmentTokens {

    public static final String ISSUER = "siteward";
    public static final String AUDIENCE = "siteward-enrollment";
    public static final Duration DEFAULT_TTL = Duration.ofMinutes(15);
    public static final Duration MAX_TTL = Duration.ofDays(30);
    /** Longest token accepted from a client, in characters. */
    public static final int MAX_TOKEN_CHARS = 4096;

    private final GatewayStore store;
    private final Clock clock;
    private final JWSSigner signer;
    private final JWSVerifier verifier;
    private final String keyId;
    private final String rootFingerprint;
    private final SecureRandom random = new SecureRandom();

    public EnrollmentTokens(GatewayStore store, Clock clock, ECPrivateKey key, ECPublicKey publicKey, String keyId,
                            String rootFingerprint) {
        this.store = store;
        this.clock = clock;
        this.keyId = keyId;
        this.rootFingerprint = rootFingerprint;
        try {
            // BouncyCastle: several times faster ES256 than SunEC on Java 17 (docs/benchmarks.md)
            ECDSASigner s = new ECDSASigner(key);
            s.getJCAContext().setProvider(dev.siteward.pki.CryptoProviders.bouncyCastle());
            ECDSAVerifier v = new ECDSAVerifier(publicKey);
            v.getJCAContext().setProvider(dev.siteward.pki.CryptoProviders.bouncyCastle());
            this.signer = s;
            this.verifier = v;
        } catch (JOSEException | RuntimeException e) {
            throw new IllegalStateException("token key unusable", e);
        }
    }

    /** Creates and records a token for the device; the token is the only output. */
    public String create(String deviceId, Map<String, String> labels, Duration ttl)
            throws GatewayException, StoreException {
        try {
            SpiffeId.requireName(deviceId, "device id");
            Labels.validate(labels);
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.BAD_REQUEST, e.getMessage());
        }
        Duration life = ttl == null ? DEFAULT_TTL : ttl;
        if (life.isNegative() || life.isZero() || life.compareTo(MAX_TTL) > 0) {
            throw new GatewayException(Reason.BAD_REQUEST, "token lifetime must be above zero and at most 30d");
        }
        byte[] id = new byte[16];
        random.nextBytes(id);
        String jti = Base64.getUrlEncoder().withoutPadding().encodeToString(id);
        Instant now = clock.instant();
        Instant exp = now.plus(life);
        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(ISSUER).audience(AUDIENCE).subject(deviceId)
                .jwtID(jti).issueTime(Date.from(now)).notBeforeTime(Date.from(now)).expirationTime(Date.from(exp))
                .claim("root", rootFingerprint).claim("labels", new TreeMap<>(labels)).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(keyId).build(), claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new GatewayException(Reason.INTERNAL, "cannot sign the token", e);
        }
        store.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO enrollment_tokens (jti, device_id, labels, "
                    + "created_at, expires_at) VALUES (?, ?, ?, ?, ?)")) {
                ps.setString(1, jti);
                ps.setString(2, deviceId);
                ps.setString(3, Labels.toJson(labels));
                ps.setTimestamp(4, Timestamp.from(now));
                ps.setTimestamp(5, Timestamp.from(exp));
                return ps.executeUpdate();
            }
        });
        return jwt.serialize();
    }

    /** Verifies signature, issuer, audience, root fingerprint and expiry; does not consume the token. */
    public TokenClaims verify(String token) throws GatewayException {
        if (token == null || token.isBlank()) {
            throw new GatewayException(Reason.TOKEN_MISSING, "enrollment needs a token (Authorization: Bearer) or a "
                    + "factory certificate");
        }
        if (token.length() > MAX_TOKEN_CHARS) {
            throw new GatewayException(Reason.TOKEN_INVALID, "enrollment token is too long");
        }
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(token.trim());
            if (!JWSAlgorithm.ES256.equals(jwt.getHeader().getAlgorithm()) || !jwt.verify(verifier)) {
                throw new GatewayException(Reason.TOKEN_INVALID, "enrollment token signature is not valid");
            }
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException | JOSEException | IllegalStateException e) {
            throw new GatewayException(Reason.TOKEN_INVALID, "enrollment token is malformed");
        }
        Instant now = clock.instant();
        if (!ISSUER.equals(claims.getIssuer()) || claims.getAudience() == null
                || !claims.getAudience().equals(List.of(AUDIENCE)) || claims.getJWTID() == null
                || claims.getSubject() == null || !rootFingerprint.equals(claims.getClaim("root"))) {
            throw new GatewayException(Reason.TOKEN_INVALID, "enrollment token is not for this site");
        }
        if (claims.getExpirationTime() == null || !claims.getExpirationTime().toInstant().isAfter(now)) {
            throw new GatewayException(Reason.TOKEN_EXPIRED, "enrollment token has expired");
        }
        Map<String, String> labels = new TreeMap<>();
        Object l = claims.getClaim("labels");
        if (l instanceof Map<?, ?> m) {
            m.forEach((k, v) -> labels.put(String.valueOf(k), String.valueOf(v)));
        }
        return new TokenClaims(claims.getJWTID(), claims.getSubject(), labels,
                claims.getExpirationTime().toInstant());
    }

    /** The outcome of consuming a token. */
    public record Consumption(boolean retry, String serial) {
    }

    /**
     * Consumes the token for the CSR key inside the caller's transaction. A token already consumed with the same
     * key is a retry (returns the serial issued, or null if the issuance never completed); with another key it is
     * refused.
     */
    public Consumption consume(Connection c, TokenClaims claims, String spkiSha256)
            throws SQLException, GatewayException {
        try (PreparedStatement ps = c.prepareStatement("SELECT device_id, consumed_at, consumed_spki, serial "
                + "FROM enrollment_tokens WHERE jti = ? FOR UPDATE")) {
            ps.setString(1, claims.jti());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || !rs.getString(1).equals(claims.deviceId())) {
                    throw new GatewayException(Reason.TOKEN_INVALID, "enrollment token is unknown to this gateway");
                }
                if (rs.getTimestamp(2) != null) {
                    if (spkiSha256.equals(rs.getString(3))) {
                        return new Consumption(true, rs.getString(4));
                    }
                    throw new GatewayException(Reason.TOKEN_USED, "enrollment token was already used");
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE enrollment_tokens SET consumed_at = ?, consumed_spki = ? "
                + "WHERE jti = ? AND consumed_at IS NULL")) {
            ps.setTimestamp(1, Timestamp.from(clock.instant()));
            ps.setString(2, spkiSha256);
            ps.setString(3, claims.jti());
            if (ps.executeUpdate() != 1) {
                throw new GatewayException(Reason.TOKEN_USED, "enrollment token was already used");
            }
        }
        return new Consumption(false, null);
    }

    /** Records which certificate a consumed token produced (inside the caller's transaction). */
    public void recordSerial(Connection c, String jti, String serial) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE enrollment_tokens SET serial = ? WHERE jti = ?")) {
            ps.setString(1, serial);
            ps.setString(2, jti);
            ps.executeUpdate();
        }
    }
}
