package dev.siteward.gateway.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.gateway.admins.AdminDirectory;
import dev.siteward.gateway.admins.AdminRole;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.server.ConnectionTracker;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The expiry watch with an injected clock: what is reported as the site's certificates age. */
class ExpiryWatchTest {

    @TempDir
    Path dir;
    MutableClock clock;
    TestPki pki;
    GatewayStore store;
    DeviceRegistry devices;
    AdminDirectory admins;
    ExpiryWatch watch;
    X509Certificate server;

    @BeforeEach
    void setUp() throws Exception {
        clock = MutableClock.atDefaultStart();
        pki = TestPki.create(dir.resolve("data"), clock);
        store = GatewayStore.openEmbedded(dir.resolve("data"));
        devices = new DeviceRegistry(store, pki.ca().registry(), clock);
        admins = new AdminDirectory(store, pki.ca(), new ConnectionTracker(), clock);
        server = pki.issueServer("gw.site.local").certificate();
        watch = new ExpiryWatch(pki.ca(), admins, devices, () -> server, clock);
    }

    @AfterEach
    void tearDown() {
        store.close();
        pki.close();
    }

    private void enroll(String id) throws Exception {
        pki.issueDevice(id);
        store.inTransaction(c -> {
            devices.recordEnrollment(c, id, Map.of(), null, null);
            return null;
        });
    }

    private static Map<String, String> states(ExpiryWatch.Report r, String kind) {
        return r.entries().stream().filter(e -> e.kind().equals(kind))
                .collect(Collectors.toMap(ExpiryWatch.Entry::name, ExpiryWatch.Entry::state));
    }

    @Test
    void aFreshSiteReportsItsCaServerAndAdminsAndNoDevice() throws Exception {
        admins.add("olga", AdminRole.OPERATOR, KeyMaterial.certificationRequest(KeyMaterial.generate(
                KeyMaterial.Algorithm.EC_P256), "olga"), null, "admin");
        enroll("cam-1");
        ExpiryWatch.Report r = watch.report(ExpiryWatch.DEFAULT_WINDOW);
        assertEquals(0, r.attention(), r.toString());
        List<String> kinds = r.entries().stream().map(ExpiryWatch.Entry::kind).distinct().toList();
        assertEquals(List.of("root", "issuing", "server", "admin"), kinds);
        assertEquals(Map.of("olga", "ok"), states(r, "admin"));
        assertEquals("7d", r.window());
    }

    @Test
    void aDeviceThatDidNotRenewIsReportedOverdueThenExpiredWhileARenewedOneIsNot() throws Exception {
        enroll("cam-1");
        enroll("cam-2");
        clock.advance(Duration.ofDays(20));
        enroll("cam-2"); // renewed at two thirds, as the SDK does
        assertEquals(0, watch.report(ExpiryWatch.DEFAULT_WINDOW).attention());

        clock.advance(Duration.ofDays(5)); // day 25 of 30: past 80% without a renewal
        ExpiryWatch.Report r = watch.report(ExpiryWatch.DEFAULT_WINDOW);
        assertEquals(Map.of("cam-1", "renewal-overdue"), states(r, "device"));
        assertTrue(r.entries().stream().anyMatch(e -> e.detail().contains("renewal failed")));

        clock.advance(Duration.ofDays(6));
        assertEquals(Map.of("cam-1", "expired"), states(watch.report(ExpiryWatch.DEFAULT_WINDOW), "device"));
    }

    @Test
    void theWindowDecidesWhatIsExpiringSoonAndCaCertificatesGetAtLeastNinetyDays() throws Exception {
        admins.add("abe", AdminRole.AUDITOR, KeyMaterial.certificationRequest(KeyMaterial.generate(
                KeyMaterial.Algorithm.EC_P256), "abe"), Duration.ofDays(30), "admin");
        assertEquals(Map.of("abe", "ok"), states(watch.report(Duration.ofDays(7)), "admin"));
        assertEquals(Map.of("abe", "expiring"), states(watch.report(Duration.ofDays(31)), "admin"));
        clock.advance(Duration.ofDays(31));
        assertEquals(Map.of("abe", "expired"), states(watch.report(Duration.ofDays(1)), "admin"));

        X509Certificate issuing = pki.ca().issuingCertificate();
        clock.set(issuing.getNotAfter().toInstant().minus(Duration.ofDays(60)));
        ExpiryWatch.Report r = watch.report(Duration.ofDays(1));
        assertEquals("expiring", states(r, "issuing").values().iterator().next());
        assertTrue(r.attention() > 0);
    }

    @Test
    void aReplacedIssuingGenerationIsReportedTrustedWhileItsLastCertificateIsValidThenRetired() throws Exception {
        enroll("cam-1");
        String first = pki.ca().issuingCertificate().getSubjectX500Principal().getName();
        pki.ca().rotate();
        String second = pki.ca().issuingCertificate().getSubjectX500Principal().getName();
        assertEquals(Map.of(first, "ok", second, "ok"), states(watch.report(ExpiryWatch.DEFAULT_WINDOW), "issuing"));

        clock.set(cert(server).minusSeconds(1)); // cam-1 expired; the server certificate (90d) is the last one left
        ExpiryWatch.Report r = watch.report(ExpiryWatch.DEFAULT_WINDOW);
        assertEquals("ok", states(r, "issuing").get(first));
        assertTrue(r.entries().stream().anyMatch(e -> e.name().equals(first)
                && e.detail().contains("trusted until " + cert(server))), r.toString());

        clock.set(cert(server));
        r = watch.report(ExpiryWatch.DEFAULT_WINDOW);
        assertEquals(Map.of(first, "retired", second, "ok"), states(r, "issuing"));
        assertTrue(r.entries().stream().filter(e -> e.name().equals(first)).allMatch(e -> !e.needsAttention()
                && e.detail().contains("no longer trusted")), "a retirement is not something to fix");
        assertEquals(List.of(pki.ca().issuingCertificate()), pki.ca().issuingCertificates());
    }

    private static java.time.Instant cert(X509Certificate c) {
        return c.getNotAfter().toInstant();
    }

    @Test
    void theGatewaysServiceCertificatesAreReportedAndAGrantCertificateNotRenewedInTimeIsOverdueUntilRenewed()
            throws Exception {
        Path data = dir.resolve("data");
        dev.siteward.gateway.authorization.GrantIssuer grants = new dev.siteward.gateway.authorization.GrantIssuer(
                data, pki.ca(), clock, java.time.Duration.ofSeconds(30));
        dev.siteward.gateway.models.ReleaseKey.ensure(data, pki.ca(), clock);
        dev.siteward.gateway.audit.AuditKey.ensure(data, pki.ca(), clock);
        dev.siteward.gateway.mqtt.MqttServiceCredential.ensure(data, pki.ca(), "gateway", clock);
        ExpiryWatch withFiles = new ExpiryWatch(pki.ca(), admins, devices, () -> server, clock, data);
        Map<String, String> services = states(withFiles.report(ExpiryWatch.DEFAULT_WINDOW), "service");
        assertEquals(Map.of("release", "ok", "grant", "ok", "gateway-audit", "ok", "mqtt-service", "ok"), services);

        X509Certificate grant = grants.certificate();
        java.time.Instant start = grant.getNotBefore().toInstant();
        java.time.Duration life = java.time.Duration.between(start, grant.getNotAfter().toInstant());
        clock.advance(java.time.Duration.between(clock.instant(), start.plus(life.multipliedBy(85).dividedBy(100))));
        assertEquals("renewal-overdue", states(withFiles.report(ExpiryWatch.DEFAULT_WINDOW), "service").get("grant"));

        grants.renewIfDue(); // what the gateway's hourly check does
        assertEquals("ok", states(withFiles.report(ExpiryWatch.DEFAULT_WINDOW), "service").get("grant"));
        assertTrue(!grants.certificate().equals(grant));
    }

    @Test
    void trustedPublisherRootsAreReportedNinetyDaysAheadAndAnUnreadableTrustFileNeedsAttention() throws Exception {
        Path data = dir.resolve("data");
        ExpiryWatch withData = new ExpiryWatch(pki.ca(), admins, devices, () -> server, clock, data);
        new dev.siteward.gateway.trust.PublisherTrust(List.of(new dev.siteward.gateway.trust.PublisherTrust.Publisher(
                "vision-team", List.of(pki.ca().root()), List.of("vision/*"), false))).save(data);
        assertEquals(Map.of("vision-team", "ok"), states(withData.report(ExpiryWatch.DEFAULT_WINDOW), "publisher"));
        clock.set(pki.ca().root().getNotAfter().toInstant().minus(Duration.ofDays(60)));
        assertEquals(Map.of("vision-team", "expiring"), states(withData.report(Duration.ofDays(1)), "publisher"));

        java.nio.file.Files.writeString(data.resolve("trust/publishers.yaml"), "publishers: [nonsense\n");
        ExpiryWatch.Report r = withData.report(ExpiryWatch.DEFAULT_WINDOW);
        assertEquals(Map.of("trust/publishers.yaml", "expired"), states(r, "publisher"));
        assertTrue(r.entries().stream().anyMatch(e -> e.kind().equals("publisher") && e.needsAttention()
                && e.detail().startsWith("unreadable")), r.toString());
    }
}
