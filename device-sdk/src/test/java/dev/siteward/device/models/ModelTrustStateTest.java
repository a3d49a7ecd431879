package dev.siteward.device.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.ca.CaKind;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pure trust state: no network, a moved clock, documents signed as the gateway signs them. */
class ModelTrustStateTest {

    @TempDir
    static Path shared;
    static MutableClock clock;
    static TestPki site;
    static TestPki publisherCa;
    static ReleaseSite release;
    static Map<String, Map.Entry<List<String>, List<X509Certificate>>> rules;

    ModelTrustState state;

    @BeforeAll
    static void site() {
        clock = MutableClock.atDefaultStart();
        site = TestPki.create(shared.resolve("site"), clock);
        publisherCa = TestPki.builder(shared.resolve("pub")).kind(CaKind.PUBLISHER).clock(clock).build();
        release = new ReleaseSite(site.issue(CertificateProfile.SERVICE, "release"));
        rules = Map.of("vision-team", Map.entry(List.of("vision/*"), List.of(publisherCa.root())));
    }

    @AfterAll
    static void close() {
        site.close();
        publisherCa.close();
    }

    @BeforeEach
    void state() throws Exception {
        clock.set(MutableClock.DEFAULT_START);
        state = new ModelTrustState(new SignedDocuments(site.root(), site.ca().trustDomain(), site.crlSource(), clock),
                "cam-1", clock, Duration.ofDays(3));
        state.acceptTrust(release.trust(1, rules));
    }

    static ObjectNode entry(long version) {
        ObjectNode m = ReleaseSite.JSON.createObjectNode();
        m.put("name", "vision/people-counter");
        m.put("version", version);
        m.putNull("rollbackFrom");
        m.putObject("signature").put("sha256", "ab".repeat(32)).put("size", 10);
        m.putArray("files").addObject().put("path", "model.onnx").put("size", 1).put("sha256", "cd".repeat(32));
        return m;
    }

    String metadata(long version, Instant expires) {
        return release.metadata("cam-1", version, expires, List.of(entry(4)), List.of());
    }

    @Test
    void freshnessGoesFromFreshToOfflineToFrozenAsTimePasses() throws Exception {
        assertEquals(Freshness.NONE, state.freshness());
        state.acceptMetadata(metadata(1, clock.instant().plus(Duration.ofDays(7))));
        assertEquals(Freshness.FRESH, state.freshness());
        assertEquals(ReleaseDecision.Action.INSTALL, state.decide("vision/people-counter", null, null).action());

        clock.advance(Duration.ofDays(8));
        assertEquals(Freshness.OFFLINE, state.freshness(), "expired a day ago: within the 3-day allowance");
        ModelSecurityException e = assertThrows(StaleMetadataException.class,
                () -> state.decide("vision/people-counter", null, null));
        assertEquals(RefusalCode.METADATA_EXPIRED, e.code(), "nothing new is installed from expired metadata");

        clock.advance(Duration.ofDays(3));
        assertEquals(Freshness.FROZEN, state.freshness());
    }

    @Test
    void theSameMetadataFetchedAgainIsNotAReplayButAnotherDocumentWithTheSameVersionIs() throws Exception {
        String first = metadata(5, clock.instant().plus(Duration.ofDays(7)));
        state.acceptMetadata(first);
        state.acceptMetadata(first);

        String other = release.metadata("cam-1", 5, clock.instant().plus(Duration.ofDays(6)), List.of(entry(3)),
                List.of());
        assertEquals(RefusalCode.METADATA_REPLAYED,
                assertThrows(StaleMetadataException.class, () -> state.acceptMetadata(other)).code());
        assertEquals(4, state.metadata().models().get(0).version(), "the refused document changed nothing");
    }

    @Test
    void aLowerTrustDocumentVersionIsRefusedAndAHigherOneReplacesThePinnedOne() throws Exception {
        TrustDocument pinned = state.trust();
        assertFalse(state.acceptTrust(state.trustJws()), "the same document again changes nothing");
        assertTrue(state.acceptTrust(release.trust(3, rules)));
        assertEquals(3, state.trust().version());

        assertEquals(RefusalCode.METADATA_REPLAYED,
                assertThrows(StaleMetadataException.class, () -> state.acceptTrust(release.trust(2, rules))).code());
        assertEquals(3, state.trust().version());
        assertEquals(1, pinned.version());
    }

    @Test
    void aTrustDocumentWithAnEmptyRuleSetLetsNoPublisherSignAnything() throws Exception {
        state.acceptTrust(release.trust(2, Map.of()));
        assertTrue(state.publisherRootsFor("vision/people-counter").isEmpty());
    }

    @Test
    void metadataSignedWithARevokedReleaseCertificateIsRefused() throws Exception {
        TestIdentity revoked = site.issue(CertificateProfile.SERVICE, "release");
        site.ca().revoke(revoked.serial(), RevocationReason.KEY_COMPROMISE);
        String jws = ReleaseSite.sign(SignedDocuments.RELEASE_TYP, ReleaseSite.metadataPayload("cam-1", 1,
                clock.instant(), clock.instant().plus(Duration.ofDays(7)), List.of(entry(1)), List.of()), revoked);

        MetadataRefusedException e = assertThrows(MetadataRefusedException.class, () -> state.acceptMetadata(jws));
        assertEquals(RefusalCode.METADATA_BAD_SIGNATURE, e.code());
        assertTrue(e.getMessage().contains("revoked"), e.getMessage());
    }

    @Test
    void aDocumentWithAnotherAlgorithmOrWithoutItsChainIsRefused() throws Exception {
        String good = metadata(1, clock.instant().plus(Duration.ofDays(7)));
        String[] parts = good.split("\\.");
        String noneHeader = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                "{\"alg\":\"none\",\"typ\":\"siteward-release+jwt\"}".getBytes());
        assertThrows(MetadataRefusedException.class, () -> state.acceptMetadata(noneHeader + "." + parts[1] + "."));
        String noChain = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                "{\"alg\":\"ES256\",\"typ\":\"siteward-release+jwt\"}".getBytes());
        assertThrows(MetadataRefusedException.class,
                () -> state.acceptMetadata(noChain + "." + parts[1] + "." + parts[2]));
        assertSame(null, state.metadata());
    }
}
