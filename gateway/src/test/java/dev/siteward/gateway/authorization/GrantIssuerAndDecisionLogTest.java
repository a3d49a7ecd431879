package dev.siteward.gateway.authorization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jwt.SignedJWT;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import dev.siteward.policies.AccessRequest;
import dev.siteward.policies.Effect;
import dev.siteward.policies.RequestContext;
import dev.siteward.policies.Resource;
import dev.siteward.policies.Subject;
import dev.siteward.policies.SubjectKind;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GrantIssuerAndDecisionLogTest {

    @TempDir
    Path dataDir;

    private MutableClock clock;
    private TestPki pki;

    @BeforeEach
    void setUp() {
        clock = MutableClock.atSystemTime();
        pki = TestPki.create(dataDir, clock);
    }

    @AfterEach
    void tearDown() {
        pki.close();
    }

    @Test
    void aGrantIsAnEs256JwsSignedByTheServiceGrantsCertificateWithAShortLife() throws Exception {
        GrantIssuer issuer = new GrantIssuer(dataDir, pki.ca(), clock, Duration.ofSeconds(30));
        GrantIssuer.Grant g = issuer.issue("spiffe://x/device/vc-01", "valve.open", "valve-07", "d-1");
        SignedJWT jwt = SignedJWT.parse(g.token());
        assertEquals(JWSAlgorithm.ES256, jwt.getHeader().getAlgorithm());
        assertEquals(GrantIssuer.TYPE, jwt.getHeader().getType().getType());
        assertEquals(2, jwt.getHeader().getX509CertChain().size());
        X509Certificate leaf = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(jwt.getHeader().getX509CertChain().get(0).decode()));
        assertEquals(issuer.certificate(), leaf);
        assertTrue(leaf.getSubjectAlternativeNames().stream().anyMatch(s -> s.get(1).equals(
                "spiffe://" + pki.ca().trustDomain() + "/service/grants")));
        assertTrue(jwt.verify(new ECDSAVerifier((ECPublicKey) leaf.getPublicKey())));
        assertEquals(List.of("valve-07"), jwt.getJWTClaimsSet().getAudience());
        assertEquals("valve.open", jwt.getJWTClaimsSet().getClaim("action"));
        assertEquals("d-1", jwt.getJWTClaimsSet().getClaim("did"));
        assertEquals(g.id(), jwt.getJWTClaimsSet().getJWTID());
        Duration life = Duration.between(jwt.getJWTClaimsSet().getIssueTime().toInstant(),
                jwt.getJWTClaimsSet().getExpirationTime().toInstant());
        assertEquals(Duration.ofSeconds(30), life);
        assertNotEquals(g.id(), issuer.issue("s", "valve.open", "valve-07", "d-2").id());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                dataDir.resolve("gateway/grant-key.pem"))));
    }

    @Test
    void grantsLongerThanThirtySecondsCannotBeConfigured() {
        assertThrows(IllegalArgumentException.class, () -> new GrantIssuer(dataDir, pki.ca(), clock,
                Duration.ofSeconds(31)));
    }

    @Test
    void theGrantCertificateIsReissuedWhenTwoThirdsOfItsLifePassed() throws Exception {
        GrantIssuer issuer = new GrantIssuer(dataDir, pki.ca(), clock, Duration.ofSeconds(30));
        X509Certificate first = issuer.certificate();
        clock.advance(Duration.ofDays(21));
        issuer.issue("s", "valve.open", "valve-07", "d");
        assertNotEquals(first.getSerialNumber(), issuer.certificate().getSerialNumber());
        assertEquals(issuer.certificate(), new GrantIssuer(dataDir, pki.ca(), clock, Duration.ofSeconds(30))
                .certificate(), "the renewed certificate is kept on disk");
    }

    @Test
    void decisionsAreRecordedWithTheirRequestAndReadBackForReplay() throws Exception {
        try (GatewayStore store = GatewayStore.openEmbedded(dataDir)) {
            DecisionLog log = new DecisionLog(store);
            Instant at = clock.instant().truncatedTo(ChronoUnit.MILLIS);
            Instant nb = at.minus(Duration.ofDays(2));
            AccessRequest request = new AccessRequest(new Subject("vc-01", SubjectKind.DEVICE, Set.of("r1"),
                    Map.of("class", "valve-controller"), nb), "valve.open",
                    new Resource("valve-07", "hall-a", Map.of("hazard", "low")), new RequestContext("maintenance"));
            log.record(new DecisionLog.Entry("id-1", at, request, Effect.ALLOW, List.of("a", "b"), "allowed", 7,
                    "sha256:ab", false, "spiffe://x/device/vc-01", "jti-1"));
            log.record(new DecisionLog.Entry("id-2", at, request, Effect.DENY, List.of(), "denied", 0, null, true,
                    "spiffe://x/admin/a", null));
            log.record(new DecisionLog.Entry("id-old", at.minus(Duration.ofDays(10)), request, Effect.DENY,
                    List.of(), "old", 0, null, false, "spiffe://x/device/vc-01", null));
            assertEquals(3, log.count());
            List<DecisionLog.Entry> recent = log.since(at.minus(Duration.ofDays(1)));
            assertEquals(1, recent.size(), "dry runs and older decisions are not replayed");
            DecisionLog.Entry e = recent.get(0);
            assertEquals("id-1", e.id());
            assertEquals(at, e.at());
            assertEquals(request, e.request());
            assertEquals(Effect.ALLOW, e.effect());
            assertEquals(List.of("a", "b"), e.ruleIds());
            assertEquals(7, e.bundleVersion());
            assertEquals("sha256:ab", e.bundleDigest());
            assertEquals("jti-1", e.grantId());
            assertNull(log.since(at.minus(Duration.ofDays(30))).get(0).bundleDigest());
        }
    }
}
