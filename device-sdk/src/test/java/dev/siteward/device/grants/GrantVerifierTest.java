package dev.siteward.device.grants;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GrantVerifierTest {

    private static final String VALVE = "valve-a-07";

    @TempDir
    Path dir;

    private MutableClock clock;
    private TestPki pki;
    private TestIdentity grants;
    private String trustDomain;

    @BeforeEach
    void setUp() {
        clock = MutableClock.atSystemTime();
        pki = TestPki.create(dir.resolve("ca"), clock);
        grants = pki.issue(CertificateProfile.SERVICE, "grants");
        trustDomain = pki.ca().trustDomain();
    }

    @AfterEach
    void tearDown() {
        pki.close();
    }

    private GrantVerifier verifier() throws Exception {
        return new GrantVerifier(pki.root(), trustDomain, VALVE, UsedGrants.open(dir.resolve("used"), clock, 100),
                clock);
    }

    private JWTClaimsSet.Builder claims(Duration life) {
        Instant now = clock.instant();
        return new JWTClaimsSet.Builder().issuer("spiffe://" + trustDomain + "/service/grants")
                .subject("spiffe://" + trustDomain + "/device/vc-01").audience(VALVE).claim("action", "valve.open")
                .claim("did", "d-1").jwtID(UUID.randomUUID().toString()).issueTime(Date.from(now))
                .notBeforeTime(Date.from(now)).expirationTime(Date.from(now.plus(life)));
    }

    private String sign(TestIdentity signer, JWTClaimsSet claims) throws Exception {
        List<Base64> x5c = new ArrayList<>();
        for (X509Certificate c : signer.chain().subList(0, 2)) {
            x5c.add(Base64.encode(c.getEncoded()));
        }
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256)
                .type(new JOSEObjectType(GrantVerifier.TYPE)).x509CertChain(x5c).build(), claims);
        jwt.sign(new ECDSASigner((ECPrivateKey) signer.privateKey()));
        return jwt.serialize();
    }

    private String grant() throws Exception {
        return sign(grants, claims(Duration.ofSeconds(30)).build());
    }

    private GrantRefusedException.Reason refusal(GrantVerifier v, String token, String action) {
        return assertThrows(GrantRefusedException.class, () -> v.verify(token, action)).reason();
    }

    @Test
    void aValidGrantIsAcceptedOnceAndItsReplayIsRefused() throws Exception {
        GrantVerifier v = verifier();
        String token = grant();
        VerifiedGrant g = v.verify(token, "valve.open");
        assertEquals(VALVE, g.audience());
        assertEquals("d-1", g.decisionId());
        assertEquals("spiffe://" + trustDomain + "/device/vc-01", g.subject());
        assertEquals(GrantRefusedException.Reason.REPLAYED, refusal(v, token, "valve.open"));
    }

    @Test
    void aReplayAfterARestartIsStillRefused() throws Exception {
        String token = grant();
        verifier().verify(token, "valve.open");
        GrantVerifier afterReboot = verifier();
        assertEquals(GrantRefusedException.Reason.REPLAYED, refusal(afterReboot, token, "valve.open"));
    }

    @Test
    void usedIdsAreForgottenOnceTheirGrantsExpired() throws Exception {
        UsedGrants used = UsedGrants.open(dir.resolve("used"), clock, 100);
        new GrantVerifier(pki.root(), trustDomain, VALVE, used, clock).verify(grant(), "valve.open");
        assertEquals(1, used.size());
        clock.advance(Duration.ofMinutes(2));
        assertEquals(0, used.size());
    }

    @Test
    void aGrantForAnotherActuatorIsRefused() throws Exception {
        String token = sign(grants, claims(Duration.ofSeconds(30)).audience("valve-b-01").build());
        assertEquals(GrantRefusedException.Reason.WRONG_AUDIENCE, refusal(verifier(), token, "valve.open"));
    }

    @Test
    void aGrantForAnotherActionIsRefused() throws Exception {
        assertEquals(GrantRefusedException.Reason.WRONG_ACTION, refusal(verifier(), grant(), "valve.close"));
    }

    @Test
    void anExpiredGrantIsRefused() throws Exception {
        String token = grant();
        clock.advance(Duration.ofSeconds(36));
        assertEquals(GrantRefusedException.Reason.EXPIRED, refusal(verifier(), token, "valve.open"));
    }

    @Test
    void aGrantWithinTheClockSkewAfterExpiryIsAccepted() throws Exception {
        String token = grant();
        clock.advance(Duration.ofSeconds(33));
        verifier().verify(token, "valve.open");
    }

    @Test
    void aGrantFromTheFutureIsRefused() throws Exception {
        Instant later = clock.instant().plusSeconds(20);
        String token = sign(grants, claims(Duration.ofSeconds(30)).issueTime(Date.from(later))
                .notBeforeTime(Date.from(later)).expirationTime(Date.from(later.plusSeconds(30))).build());
        assertEquals(GrantRefusedException.Reason.NOT_YET_VALID, refusal(verifier(), token, "valve.open"));
    }

    @Test
    void aLongLivedGrantIsRefused() throws Exception {
        String token = sign(grants, claims(Duration.ofHours(1)).build());
        assertEquals(GrantRefusedException.Reason.TOO_LONG, refusal(verifier(), token, "valve.open"));
    }

    @Test
    void aGrantSignedByAnotherSiteIsRefused() throws Exception {
        try (TestPki other = pki.otherCa(dir.resolve("other"))) {
            TestIdentity foreign = other.issue(CertificateProfile.SERVICE, "grants");
            String token = sign(foreign, claims(Duration.ofSeconds(30)).build());
            assertEquals(GrantRefusedException.Reason.UNTRUSTED_CHAIN, refusal(verifier(), token, "valve.open"));
        }
    }

    @Test
    void aGrantSignedByADeviceOfTheSiteIsRefused() throws Exception {
        TestIdentity device = pki.issueDevice("vc-01");
        String token = sign(device, claims(Duration.ofSeconds(30)).build());
        assertEquals(GrantRefusedException.Reason.NOT_GRANT_SERVICE, refusal(verifier(), token, "valve.open"));
    }

    @Test
    void aGrantSignedByAnotherServiceOfTheSiteIsRefused() throws Exception {
        TestIdentity mqtt = pki.issue(CertificateProfile.SERVICE, "mqtt");
        String token = sign(mqtt, claims(Duration.ofSeconds(30)).build());
        assertEquals(GrantRefusedException.Reason.NOT_GRANT_SERVICE, refusal(verifier(), token, "valve.open"));
    }

    @Test
    void aTamperedGrantIsRefused() throws Exception {
        String[] parts = grant().split("\\.");
        String otherPayload = sign(grants, claims(Duration.ofSeconds(30)).audience(VALVE)
                .claim("action", "valve.open").subject("spiffe://" + trustDomain + "/device/intruder").build())
                .split("\\.")[1];
        String token = parts[0] + "." + otherPayload + "." + parts[2];
        assertEquals(GrantRefusedException.Reason.BAD_SIGNATURE, refusal(verifier(), token, "valve.open"));
    }

    @Test
    void aGrantWithAnotherAlgorithmIsRefused() throws Exception {
        SignedJWT hs = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256)
                .type(new JOSEObjectType(GrantVerifier.TYPE)).build(), claims(Duration.ofSeconds(30)).build());
        hs.sign(new MACSigner(new byte[32]));
        assertEquals(GrantRefusedException.Reason.ALGORITHM, refusal(verifier(), hs.serialize(), "valve.open"));
    }

    @Test
    void aGrantWithoutCertificateChainIsRefused() throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256)
                .type(new JOSEObjectType(GrantVerifier.TYPE)).build(), claims(Duration.ofSeconds(30)).build());
        jwt.sign(new ECDSASigner((ECPrivateKey) grants.privateKey()));
        assertEquals(GrantRefusedException.Reason.UNTRUSTED_CHAIN, refusal(verifier(), jwt.serialize(),
                "valve.open"));
    }

    @Test
    void somethingThatIsNoJwtIsRefusedAsMalformed() throws Exception {
        assertEquals(GrantRefusedException.Reason.MALFORMED, refusal(verifier(), "not-a-grant", "valve.open"));
    }

    @Test
    void aFullUsedGrantStoreRefusesNewGrantsInsteadOfForgetting() throws Exception {
        GrantVerifier v = new GrantVerifier(pki.root(), trustDomain, VALVE,
                UsedGrants.open(dir.resolve("small"), clock, 1), clock);
        v.verify(grant(), "valve.open");
        assertEquals(GrantRefusedException.Reason.STORE_UNAVAILABLE, refusal(v, grant(), "valve.open"));
    }
}
