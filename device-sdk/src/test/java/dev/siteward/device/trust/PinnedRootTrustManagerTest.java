package dev.siteward.device.trust;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PinnedRootTrustManagerTest {

    @TempDir
    static Path tmp;
    static MutableClock clock;
    static TestPki site;
    static TestPki other;
    static X509Certificate[] serverChain;
    static X509Certificate[] otherServerChain;

    @BeforeAll
    static void pkis() {
        clock = MutableClock.atDefaultStart();
        site = TestPki.create(tmp.resolve("site"), clock);
        other = site.otherCa(tmp.resolve("other"));
        serverChain = site.issueServer("gateway.local", "localhost").chain().subList(0, 2)
                .toArray(new X509Certificate[0]);
        otherServerChain = other.issueServer("gateway.local", "localhost").chain().subList(0, 2)
                .toArray(new X509Certificate[0]);
    }

    @AfterAll
    static void close() {
        site.close();
        other.close();
    }

    private static PinnedRootTrustManager pinned(RootFingerprint pin, X509Certificate... known) {
        return new PinnedRootTrustManager(pin, List.of(known), clock);
    }

    @Test
    void aServerChainToTheRootWithThePinnedFingerprintIsAccepted() {
        assertDoesNotThrow(() -> pinned(RootFingerprint.of(site.root()), site.root())
                .checkServerTrusted(serverChain, "ECDHE_ECDSA"));
    }

    @Test
    void aServerPresentingThePinnedRootItselfIsAcceptedWithoutAKnownRoot() {
        X509Certificate[] withRoot = {serverChain[0], serverChain[1], site.root()};
        assertDoesNotThrow(() -> pinned(RootFingerprint.of(site.root())).checkServerTrusted(withRoot, "ECDHE_ECDSA"));
    }

    @Test
    void aWrongPinIsRefusedEvenForTheRealSite() {
        RootFingerprint wrong = RootFingerprint.of(other.root());
        UntrustedChainException e = assertThrows(UntrustedChainException.class,
                () -> pinned(wrong, site.root()).checkServerTrusted(serverChain, "ECDHE_ECDSA"));
        assertTrue(e.getMessage().contains("not the pinned site root"), e.getMessage());
    }

    @Test
    void aChainThatDoesNotLeadToThePinnedRootIsRefused() {
        // same names, same trust domain, different keys: only the signatures tell them apart
        assertThrows(UntrustedChainException.class, () -> pinned(RootFingerprint.of(site.root()), site.root())
                .checkServerTrusted(otherServerChain, "ECDHE_ECDSA"));
    }

    @Test
    void anImpostorPresentingItsOwnRootIsRefused() {
        X509Certificate[] withOtherRoot = {otherServerChain[0], otherServerChain[1], other.root()};
        assertThrows(UntrustedChainException.class, () -> pinned(RootFingerprint.of(site.root()), site.root())
                .checkServerTrusted(withOtherRoot, "ECDHE_ECDSA"));
    }

    @Test
    void aDeviceCertificateIsNotAcceptedAsAServer() {
        X509Certificate[] device = site.issueDevice("pump-1").chain().subList(0, 2).toArray(new X509Certificate[0]);
        UntrustedChainException e = assertThrows(UntrustedChainException.class,
                () -> pinned(RootFingerprint.of(site.root()), site.root()).checkServerTrusted(device, "ECDHE_ECDSA"));
        assertTrue(e.getMessage().contains("server auth"), e.getMessage());
    }

    @Test
    void anExpiredServerCertificateIsRefusedAtTheClocksTime() {
        MutableClock later = new MutableClock(clock.instant().plus(Duration.ofDays(400)));
        assertThrows(UntrustedChainException.class, () -> new PinnedRootTrustManager(RootFingerprint.of(site.root()),
                List.of(site.root()), later).checkServerTrusted(serverChain, "ECDHE_ECDSA"));
    }

    @Test
    void anEmptyChainAndTlsClientsAreRefused() {
        PinnedRootTrustManager tm = pinned(RootFingerprint.of(site.root()), site.root());
        assertThrows(CertificateException.class, () -> tm.checkServerTrusted(new X509Certificate[0], "ECDHE_ECDSA"));
        assertThrows(CertificateException.class, () -> tm.checkClientTrusted(serverChain, "ECDHE_ECDSA"));
    }

    @Test
    void fingerprintsAreReadInTheFormSitewardPrintsAndMalformedOnesAreRefused() {
        String fp = RootFingerprint.of(site.root()).toString();
        assertEquals(fp, RootFingerprint.parse(fp.toUpperCase().replace("SHA256", "sha256")).toString());
        assertThrows(IllegalArgumentException.class, () -> RootFingerprint.parse("sha1:abcd"));
        assertThrows(IllegalArgumentException.class, () -> RootFingerprint.parse(fp.substring(0, fp.length() - 1)));
        assertThrows(IllegalArgumentException.class, () -> RootFingerprint.parse(null));
    }

    @Test
    void theProvisionalManagerOnlyRecordsAndItsChainMustStillValidateToThePin() throws Exception {
        ProvisionalTrustManager provisional = new ProvisionalTrustManager();
        provisional.checkServerTrusted(otherServerChain, "ECDHE_ECDSA");
        PinnedRoot root = PinnedRoot.select(RootFingerprint.of(site.root()), List.of(site.root()));
        assertThrows(UntrustedChainException.class, () -> root.validate(provisional.presentedChain(),
                PinnedRoot.Purpose.SERVER_AUTH, clock.instant()));
    }

    @Test
    void aRevokedGatewayCertificateIsRefusedAndAStaleCrlIsRefreshedNotALockOut() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("pinned-crl");
        dev.siteward.pki.testkit.MutableClock clock = dev.siteward.pki.testkit.MutableClock.atSystemTime();
        try (dev.siteward.pki.testkit.TestPki pki = dev.siteward.pki.testkit.TestPki.create(dir, clock)) {
            var server = pki.issueServer("localhost");
            X509Certificate[] chain = server.chain().subList(0, 2).toArray(new X509Certificate[0]);
            java.util.concurrent.atomic.AtomicInteger fetches = new java.util.concurrent.atomic.AtomicInteger();
            GatewayCrls crls = new GatewayCrls(() -> {
                fetches.incrementAndGet();
                try {
                    return java.util.List.of(pki.ca().rootCrl(), pki.ca().crl());
                } catch (dev.siteward.pki.PkiException e) {
                    throw new IllegalStateException(e);
                }
            }, clock);
            PinnedRootTrustManager tm = PinnedRootTrustManager.forRoot(pki.root(), clock).withRevocation(crls);
            tm.checkServerTrusted(chain, "ECDHE_ECDSA");
            assertEquals(1, fetches.get(), "no CRL held: fetched once");
            tm.checkServerTrusted(chain, "ECDHE_ECDSA");
            assertEquals(1, fetches.get(), "current CRLs are reused");

            pki.ca().revoke(server.serial(), dev.siteward.pki.RevocationReason.KEY_COMPROMISE);
            clock.advance(java.time.Duration.ofDays(8));
            CertificateException e = assertThrows(CertificateException.class,
                    () -> tm.checkServerTrusted(chain, "ECDHE_ECDSA"));
            assertTrue(e.getMessage().contains("revoked"), e.getMessage());
            assertEquals(2, fetches.get(), "the stale CRL was refreshed, and the fresh one lists the revocation");
        }
    }

    @Test
    void withoutAnyObtainableCrlTheGatewayIsRefused() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("pinned-nocrl");
        dev.siteward.pki.testkit.MutableClock clock = dev.siteward.pki.testkit.MutableClock.atSystemTime();
        try (dev.siteward.pki.testkit.TestPki pki = dev.siteward.pki.testkit.TestPki.create(dir, clock)) {
            var server = pki.issueServer("localhost");
            X509Certificate[] chain = server.chain().subList(0, 2).toArray(new X509Certificate[0]);
            GatewayCrls none = new GatewayCrls(() -> {
                throw new IllegalStateException("gateway unreachable");
            }, clock);
            PinnedRootTrustManager tm = PinnedRootTrustManager.forRoot(pki.root(), clock).withRevocation(none);
            assertThrows(CertificateException.class, () -> tm.checkServerTrusted(chain, "ECDHE_ECDSA"),
                    "revocation status unknown: fail closed");
        }
    }
}
