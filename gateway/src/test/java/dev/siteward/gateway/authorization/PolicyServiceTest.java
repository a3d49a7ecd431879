package dev.siteward.gateway.authorization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.policies.AccessRequest;
import dev.siteward.policies.Decision;
import dev.siteward.policies.Effect;
import dev.siteward.policies.RequestContext;
import dev.siteward.policies.Resource;
import dev.siteward.policies.Subject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyServiceTest {

    @TempDir
    Path tmp;

    private MutableClock clock;
    private TestBundles bundles;
    private Path dataDir;
    private List<java.security.cert.X509Certificate> trusted;

    @BeforeEach
    void setUp() throws Exception {
        clock = MutableClock.atSystemTime();
        bundles = new TestBundles(tmp, clock);
        dataDir = Files.createDirectories(tmp.resolve("data"));
        trusted = bundles.roots();
    }

    @AfterEach
    void tearDown() {
        bundles.close();
    }

    private PolicyService service() throws Exception {
        return new PolicyService(dataDir, () -> trusted, clock);
    }

    private static AccessRequest valveOpen() {
        return new AccessRequest(Subject.device("vc-01", Map.of("class", "valve-controller"), null), "valve.open",
                new Resource("valve-07", null, Map.of()), RequestContext.NORMAL);
    }

    @Test
    void withNoBundleEveryDecisionIsDenyAndSaysWhy() throws Exception {
        Decision d = service().decide(valveOpen()).decision();
        assertEquals(Effect.DENY, d.effect());
        assertTrue(d.reason().contains("no policy bundle is installed"), d.reason());
    }

    @Test
    void aSignedBundleIsInstalledAndDecides() throws Exception {
        PolicyService s = service();
        PolicyService.BundleState state = s.install(bundles.signed(tmp.resolve("b1"), 1, Duration.ofDays(1)));
        assertEquals(1, state.version());
        PolicyService.Evaluation ev = s.decide(valveOpen());
        assertEquals(Effect.ALLOW, ev.decision().effect());
        assertEquals(List.of("valve-controllers-open"), ev.decision().ruleIds());
        assertEquals(1, ev.bundleVersion());
        assertEquals(state.digest(), ev.bundleDigest());
        assertTrue(Files.isRegularFile(dataDir.resolve("policy/active/" + state.folder() + "/valves.yaml")));
    }

    @Test
    void theActiveBundleSurvivesARestartAndIsReverified() throws Exception {
        service().install(bundles.signed(tmp.resolve("b1"), 1, Duration.ofDays(1)));
        assertEquals(Effect.ALLOW, service().decide(valveOpen()).decision().effect());
    }

    @Test
    void anActiveBundleChangedOnDiskDeniesEverythingAfterARestart() throws Exception {
        PolicyService.BundleState state = service().install(bundles.signed(tmp.resolve("b1"), 1, Duration.ofDays(1)));
        Path copy = dataDir.resolve("policy/active/" + state.folder() + "/valves.yaml");
        Files.writeString(copy, Files.readString(copy).replace("valve-*", "*"));
        Decision d = service().decide(valveOpen()).decision();
        assertEquals(Effect.DENY, d.effect());
        assertTrue(d.reason().contains("no longer verifies"), d.reason());
    }

    @Test
    void aTamperedBundleIsRefusedAndTheLastGoodOneStaysActive() throws Exception {
        PolicyService s = service();
        s.install(bundles.signed(tmp.resolve("b1"), 1, Duration.ofDays(1)));
        Path b2 = bundles.signed(tmp.resolve("b2"), 2, Duration.ofDays(1));
        Files.writeString(b2.resolve("valves.yaml"), Files.readString(b2.resolve("valves.yaml"))
                .replace("valve-*", "*"));
        BundleException e = assertThrows(BundleException.class, () -> s.install(b2));
        assertEquals(BundleException.Reason.SIGNATURE, e.reason());
        assertEquals("modelsig.digest_mismatch", e.code());
        assertEquals(1, s.status().active().version());
        assertEquals("modelsig.digest_mismatch", s.status().lastRejection().code());
        assertEquals(Effect.ALLOW, s.decide(valveOpen()).decision().effect());
    }

    @Test
    void anOlderOrEqualVersionIsRefused() throws Exception {
        PolicyService s = service();
        s.install(bundles.signed(tmp.resolve("b5"), 5, Duration.ofDays(1)));
        assertEquals(BundleException.Reason.NOT_NEWER, assertThrows(BundleException.class, () ->
                s.install(bundles.signed(tmp.resolve("b4"), 4, Duration.ofDays(1)))).reason());
        assertEquals(BundleException.Reason.NOT_NEWER, assertThrows(BundleException.class, () ->
                s.install(bundles.signed(tmp.resolve("b5again"), 5, Duration.ofDays(1)))).reason());
        assertEquals(5, s.status().active().version());
    }

    @Test
    void anExpiredBundleIsRefused() throws Exception {
        Path b = bundles.signed(tmp.resolve("b1"), 1, Duration.ofHours(1));
        clock.advance(Duration.ofHours(2));
        assertEquals(BundleException.Reason.EXPIRED, assertThrows(BundleException.class, () ->
                service().install(b)).reason());
    }

    @Test
    void whenTheActiveBundleExpiresEveryDecisionIsDeny() throws Exception {
        PolicyService s = service();
        s.install(bundles.signed(tmp.resolve("b1"), 1, Duration.ofHours(1)));
        assertEquals(Effect.ALLOW, s.decide(valveOpen()).decision().effect());
        clock.advance(Duration.ofHours(1));
        Decision d = s.decide(valveOpen()).decision();
        assertEquals(Effect.DENY, d.effect());
        assertTrue(d.reason().contains("expired"), d.reason());
        assertFalse(s.status().valid());
    }

    @Test
    void anUnsignedBundleIsRefused() throws Exception {
        Path b = bundles.signed(tmp.resolve("b1"), 1, Duration.ofDays(1));
        Files.delete(b.resolve("bundle.sig"));
        assertEquals(BundleException.Reason.UNSIGNED, assertThrows(BundleException.class, () ->
                service().install(b)).reason());
    }

    @Test
    void aBundleFromAPublisherNotTrustedForPoliciesIsRefused() throws Exception {
        Path b = bundles.signed(tmp.resolve("b1"), 1, Duration.ofDays(1));
        try (TestBundles other = new TestBundles(tmp.resolve("other"), clock)) {
            trusted = other.roots();
            BundleException e = assertThrows(BundleException.class, () -> service().install(b));
            assertEquals("modelsig.untrusted_chain", e.code());
        }
        trusted = List.of();
        assertEquals(BundleException.Reason.NO_TRUSTED_PUBLISHER, assertThrows(BundleException.class, () ->
                service().install(b)).reason());
    }

    @Test
    void aSignedBundleThatDoesNotLoadIsRefusedWithFileAndLine() throws Exception {
        Path b = bundles.signed(tmp.resolve("b1"), 1, Duration.ofDays(1),
                TestBundles.VALVES.replace("actions: [valve.open]", "actions: [valve*]"), null);
        BundleException e = assertThrows(BundleException.class, () -> service().install(b));
        assertEquals(BundleException.Reason.POLICY_INVALID, e.reason());
        assertTrue(e.getMessage().startsWith("valves.yaml:8:"), e.getMessage());
        assertTrue(e.getMessage().contains("policy.bad_wildcard"), e.getMessage());
        assertEquals(Effect.DENY, service().decide(valveOpen()).decision().effect());
        try (Stream<Path> left = Files.list(dataDir.resolve("policy/active"))) {
            assertEquals(0, left.count(), "no copy of a refused bundle is left behind");
        }
    }

    @Test
    void aSignedBundleWhoseOwnTestsFailIsRefused() throws Exception {
        Path b = bundles.signed(tmp.resolve("b1"), 1, Duration.ofDays(1), TestBundles.VALVES,
                TestBundles.VALVE_CASES.replace("expect: allow", "expect: deny"));
        BundleException e = assertThrows(BundleException.class, () -> service().install(b));
        assertEquals(BundleException.Reason.TESTS_FAILED, e.reason());
        assertTrue(e.getMessage().contains("tests/valves.yaml:3"), e.getMessage());
    }

    @Test
    void theSiteModeIsPersistedAndValidated() throws Exception {
        PolicyService s = service();
        assertEquals("normal", s.siteMode());
        s.setSiteMode("maintenance", "spiffe://site/admin/sec");
        assertEquals("maintenance", service().siteMode());
        assertThrows(IllegalArgumentException.class, () -> s.setSiteMode("Maintenance!", "x"));
        assertEquals("maintenance", service().siteMode());
    }

    @Test
    void incomingFoldersAreTakenOnlyOnceSignedAndSettled() throws Exception {
        PolicyService s = service();
        IncomingBundles incoming = new IncomingBundles(s, clock, Duration.ofSeconds(2));
        Path drop = incoming.directory().resolve("release-1");
        bundles.signed(drop, 1, Duration.ofDays(1));
        assertTrue(incoming.scan().isEmpty(), "first sight: not settled yet");
        clock.advance(Duration.ofSeconds(1));
        assertTrue(incoming.scan().isEmpty());
        clock.advance(Duration.ofSeconds(1));
        List<IncomingBundles.Outcome> done = incoming.scan();
        assertEquals(1, done.size());
        assertTrue(done.get(0).installed());
        assertFalse(Files.exists(drop));
        assertTrue(Files.isDirectory(done.get(0).movedTo()));
        assertEquals(1, s.status().active().version());
    }

    @Test
    void anIncomingFolderWithoutSignatureIsLeftAlone() throws Exception {
        PolicyService s = service();
        IncomingBundles incoming = new IncomingBundles(s, clock, Duration.ofSeconds(2));
        Path drop = incoming.directory().resolve("half-copied");
        bundles.signed(drop, 1, Duration.ofDays(1));
        Files.delete(drop.resolve("bundle.sig"));
        incoming.scan();
        clock.advance(Duration.ofSeconds(10));
        assertTrue(incoming.scan().isEmpty());
        assertTrue(Files.isDirectory(drop));
    }

    @Test
    void aTamperedIncomingBundleIsMovedAsideWithItsReasonAndTheLastGoodStays() throws Exception {
        PolicyService s = service();
        IncomingBundles incoming = new IncomingBundles(s, clock, Duration.ZERO);
        bundles.signed(incoming.directory().resolve("release-1"), 1, Duration.ofDays(1));
        assertTrue(incoming.scan().get(0).installed());
        Path drop = bundles.signed(incoming.directory().resolve("release-2"), 2, Duration.ofDays(1));
        Files.writeString(drop.resolve("valves.yaml"), "# changed after signing\n", java.nio.file.StandardOpenOption
                .APPEND);
        IncomingBundles.Outcome out = incoming.scan().get(0);
        assertFalse(out.installed());
        assertEquals("modelsig.digest_mismatch", out.code());
        Path reason = out.movedTo().resolveSibling(out.movedTo().getFileName() + ".reason.txt");
        String text = Files.readString(reason);
        assertTrue(text.startsWith("modelsig.digest_mismatch: "), text);
        assertTrue(text.contains("digest_differs valves.yaml"), text);
        assertEquals(1, s.status().active().version());
        assertEquals(Effect.ALLOW, s.decide(valveOpen()).decision().effect());
        assertNotNull(s.status().lastRejection());
    }
}
