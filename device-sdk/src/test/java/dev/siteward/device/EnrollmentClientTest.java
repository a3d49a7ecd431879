package dev.siteward.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.device.DeviceException.Reason;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Enrollment over real TLS against an in-process EST stand-in, for the cases a real gateway would not produce. */
class EnrollmentClientTest {

    static final String TOKEN = "eyJ.test.token";

    @TempDir
    static Path cas;
    @TempDir
    Path tmp;
    static TestPki site;
    static TestPki impostor;
    static TestIdentity siteServer;
    static TestIdentity impostorServer;

    @BeforeAll
    static void pkis() {
        MutableClock clock = MutableClock.atSystemTime();
        site = TestPki.create(cas.resolve("site"), clock);
        impostor = site.otherCa(cas.resolve("impostor"));
        siteServer = site.issueServer("localhost", "127.0.0.1");
        impostorServer = impostor.issueServer("localhost", "127.0.0.1");
    }

    @AfterAll
    static void close() {
        site.close();
        impostor.close();
    }

    private DeviceIdentity enroll(FakeEstServer server, String pin, DeviceDirectory dir) throws DeviceException {
        RetryPolicy retry = new RetryPolicy(new Backoff(Duration.ofMillis(1), Duration.ofMillis(4), new Random(1)), 3,
                d -> { });
        return new EnrollmentClient(site.clock(), retry).enroll(EnrollmentRequest.of(server.url().toString(), TOKEN,
                pin), dir, new Pkcs12DeviceKeyStore(dir.keysDir(), site.clock()));
    }

    private static String sitePin() {
        return Certificates.fingerprint(site.root());
    }

    private static Function<byte[], FakeEstServer.Answer> issuing(String deviceId) {
        return csr -> FakeEstServer.issued(site, csr, deviceId);
    }

    @Test
    void withTheRightPinTheDeviceEnrollsAndCommitsItsIdentity() throws Exception {
        try (FakeEstServer server = new FakeEstServer(siteServer, site, issuing("pump-1"))) {
            DeviceDirectory dir = new DeviceDirectory(tmp.resolve("dev"));
            DeviceIdentity id = enroll(server, sitePin(), dir);
            assertEquals("pump-1", id.deviceId());
            assertEquals(site.root(), dir.load().root());
            assertEquals(1, server.tokenRequests());
            // advertised host replaced by the localhost the device used, advertised port kept
            assertEquals("https://localhost:9443/", dir.load().deviceUrl().toString());
            assertEquals(server.url().getPort(), dir.load().enrollUrl().getPort());
        }
    }

    @Test
    void aWrongPinStopsAfterCacertsAndNeverSendsTheToken() throws Exception {
        try (FakeEstServer server = new FakeEstServer(siteServer, site, issuing("pump-2"))) {
            DeviceDirectory dir = new DeviceDirectory(tmp.resolve("dev"));
            DeviceException e = assertThrows(DeviceException.class,
                    () -> enroll(server, Certificates.fingerprint(impostor.root()), dir));
            assertEquals(Reason.UNTRUSTED_GATEWAY, e.reason());
            assertEquals(0, server.tokenRequests());
            assertEquals(List.of("/.well-known/est/cacerts"), server.seen.stream().map(FakeEstServer.Seen::path)
                    .distinct().toList());
            assertFalse(dir.enrolled());
        }
    }

    @Test
    void anImpostorServingTheRealRootWithItsOwnServerCertificateNeverGetsTheToken() throws Exception {
        // the site root is public: anyone can serve it from /cacerts, but only the site can present a server
        // certificate that chains to it. Two layers refuse this: the check of the provisional handshake's chain,
        // and the pinned handshake of the next connection; the token comes after both.
        try (FakeEstServer server = new FakeEstServer(impostorServer, site, issuing("pump-3"))) {
            DeviceException e = assertThrows(DeviceException.class,
                    () -> enroll(server, sitePin(), new DeviceDirectory(tmp.resolve("dev"))));
            assertEquals(Reason.UNTRUSTED_GATEWAY, e.reason());
            assertTrue(e.getMessage().contains("pinned site root"), e.getMessage());
            assertEquals(0, server.tokenRequests());
        }
    }

    @Test
    void aLostEnrollmentResponseIsRetriedWithTheSameKeyAndToken() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (FakeEstServer server = new FakeEstServer(siteServer, site, csr -> calls.incrementAndGet() == 1
                ? FakeEstServer.error(503, "gateway.unavailable") : FakeEstServer.issued(site, csr, "pump-4"))) {
            DeviceIdentity id = enroll(server, sitePin(), new DeviceDirectory(tmp.resolve("dev")));
            assertEquals("pump-4", id.deviceId());
            List<FakeEstServer.Seen> enrolls = server.seen.stream()
                    .filter(s -> s.path().endsWith("simpleenroll")).toList();
            assertEquals(2, enrolls.size());
            assertArrayEquals(enrolls.get(0).body(), enrolls.get(1).body(), "the same CSR, so the same key");
            assertEquals(enrolls.get(0).authorization(), enrolls.get(1).authorization());
        }
    }

    @Test
    void aRefusedTokenIsReportedAndNotRetried() throws Exception {
        try (FakeEstServer server = new FakeEstServer(siteServer, site,
                csr -> FakeEstServer.error(403, "enrollment.token_used"))) {
            DeviceDirectory dir = new DeviceDirectory(tmp.resolve("dev"));
            DeviceException e = assertThrows(DeviceException.class, () -> enroll(server, sitePin(), dir));
            assertEquals(Reason.REFUSED, e.reason());
            assertEquals("enrollment.token_used", e.gatewayCode().orElseThrow());
            assertEquals(1, server.tokenRequests());
            assertFalse(dir.enrolled());
        }
    }

    @Test
    void anAlreadyEnrolledDirectoryIsNotOverwritten() throws Exception {
        try (FakeEstServer server = new FakeEstServer(siteServer, site, issuing("pump-5"))) {
            DeviceDirectory dir = new DeviceDirectory(tmp.resolve("dev"));
            enroll(server, sitePin(), dir);
            DeviceException e = assertThrows(DeviceException.class, () -> enroll(server, sitePin(), dir));
            assertEquals(Reason.ALREADY_ENROLLED, e.reason());
            assertEquals(1, server.tokenRequests());
        }
    }

    @Test
    void anUnreachableGatewayIsATransportFailure() {
        DeviceException e = assertThrows(DeviceException.class, () -> new EnrollmentClient(site.clock(),
                RetryPolicy.once()).enroll(EnrollmentRequest.of("https://localhost:1", TOKEN, sitePin()),
                new DeviceDirectory(tmp.resolve("dev")), new Pkcs12DeviceKeyStore(tmp.resolve("keys"), site.clock())));
        assertEquals(Reason.UNREACHABLE, e.reason());
        assertTrue(e.retryable());
    }

    @Test
    void malformedInputIsRefusedBeforeAnythingIsSent() {
        assertThrows(IllegalArgumentException.class, () -> EnrollmentRequest.of("http://gw:8443", TOKEN, sitePin()));
        assertThrows(IllegalArgumentException.class, () -> EnrollmentRequest.of("https://gw", " ", sitePin()));
        assertThrows(IllegalArgumentException.class, () -> EnrollmentRequest.of("https://gw", TOKEN, "sha256:12"));
        assertEquals("https://gw:8443/", EnrollmentRequest.of("https://gw/x", TOKEN, sitePin()).gateway().toString());
    }
}
