package dev.siteward.gateway.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.gateway.admins.AdminDirectory;
import dev.siteward.gateway.admins.AdminRole;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.server.ConnectionTracker;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The expiry watch on /prometheus: what the gauges say as time moves, and how often the database is read. */
class ExpiryMetricsTest {

    @TempDir
    Path dir;
    MutableClock clock;
    TestPki pki;
    GatewayStore store;
    DeviceRegistry devices;
    AdminDirectory admins;
    X509Certificate server;
    ExpiryMetrics metrics;

    @BeforeEach
    void setUp() throws Exception {
        clock = MutableClock.atDefaultStart();
        pki = TestPki.create(dir.resolve("data"), clock);
        store = GatewayStore.openEmbedded(dir.resolve("data"));
        devices = new DeviceRegistry(store, pki.ca().registry(), clock);
        admins = new AdminDirectory(store, pki.ca(), new ConnectionTracker(), clock);
        server = pki.issueServer("gw.site.local").certificate();
        ExpiryWatch watch = new ExpiryWatch(pki.ca(), admins, devices, () -> server, clock, dir.resolve("data"));
        metrics = new ExpiryMetrics(watch, clock, Duration.ofMinutes(1));
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

    private static long sample(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (-?[0-9.]+)$").matcher(text);
        assertTrue(m.find(), () -> series + " not in\n" + text);
        return (long) Double.parseDouble(m.group(1));
    }

    @Test
    void everySiteCertificateIsExportedWithTheSecondsItHasLeft() throws Exception {
        admins.add("olga", AdminRole.OPERATOR, KeyMaterial.certificationRequest(KeyMaterial.generate(
                KeyMaterial.Algorithm.EC_P256), "olga"), Duration.ofDays(30), "admin");
        new dev.siteward.gateway.trust.PublisherTrust(List.of(new dev.siteward.gateway.trust.PublisherTrust.Publisher(
                "vision-team", List.of(pki.ca().root()), List.of("vision/*"), false))).save(dir.resolve("data"));
        String text = metrics.prometheus();

        X509Certificate root = pki.ca().root();
        long rootLeft = (root.getNotAfter().getTime() - clock.millis()) / 1000;
        assertEquals(rootLeft, sample(text, "siteward_certificate_expiry_seconds{kind=\"root\",name=\""
                + root.getSubjectX500Principal().getName() + "\",serial=\"" + Certificates.serialHex(
                root.getSerialNumber()) + "\"}"));
        assertTrue(text.contains("siteward_certificate_expiry_seconds{kind=\"issuing\","), text);
        assertTrue(text.contains("siteward_certificate_expiry_seconds{kind=\"server\",name=\"gw.site.local\""), text);
        assertTrue(text.contains("siteward_certificate_expiry_seconds{kind=\"publisher\",name=\"vision-team\""),
                text);
        Matcher admin = Pattern.compile("siteward_certificate_expiry_seconds\\{kind=\"admin\",name=\"olga\","
                + "serial=\"[0-9a-f]+\"} (\\d+)").matcher(text);
        assertTrue(admin.find(), text);
        assertEquals(Duration.ofDays(30).getSeconds(), Long.parseLong(admin.group(1)), 60);
        assertEquals(0, sample(text, "siteward_devices_expiring{window=\"7d\"}"));
        assertEquals(0, sample(text, "siteward_devices_renewal_failed"));
        assertTrue(text.contains("# TYPE siteward_certificate_expiry_seconds gauge\n"), text);
    }

    @Test
    void devicesThatFailedToRenewOrExpireSoonAreCountedAsTimeMoves() throws Exception {
        enroll("cam-1");
        enroll("cam-2");
        enroll("cam-3");
        clock.advance(Duration.ofDays(20));
        enroll("cam-3"); // renewed at two thirds
        clock.advance(Duration.ofDays(5)); // day 25 of 30: cam-1 and cam-2 past 80% without renewal
        String text = metrics.prometheus();
        assertEquals(2, sample(text, "siteward_devices_renewal_failed"));
        assertEquals(0, sample(text, "siteward_devices_expired"));
        assertTrue(sample(text, "siteward_certificates_attention") >= 2);

        clock.advance(Duration.ofDays(6)); // day 31: both expired, cam-3 still valid
        text = metrics.prometheus();
        assertEquals(0, sample(text, "siteward_devices_renewal_failed"));
        assertEquals(2, sample(text, "siteward_devices_expired"));

        clock.advance(Duration.ofDays(12)); // cam-3's renewed certificate (day 20 + 30) is within 7 days
        assertEquals(1, sample(metrics.prometheus(), "siteward_devices_expiring{window=\"7d\"}"));
    }

    @Test
    void theReportIsComputedOncePerRefreshWhileTheSecondsLeftFollowTheClock() throws Exception {
        String first = metrics.prometheus();
        String series = "siteward_certificate_expiry_seconds{kind=\"server\",name=\"gw.site.local\",serial=\""
                + Certificates.serialHex(server.getSerialNumber()) + "\"}";
        long left = sample(first, series);
        for (int i = 0; i < 20; i++) {
            metrics.prometheus();
        }
        assertEquals(1, metrics.computations());

        clock.advance(Duration.ofSeconds(30));
        enroll("cam-1");
        String cached = metrics.prometheus();
        assertEquals(1, metrics.computations());
        assertEquals(left - 30, sample(cached, series));

        clock.advance(Duration.ofSeconds(31));
        metrics.prometheus();
        assertEquals(2, metrics.computations());
    }

    @Test
    void aFailedComputationKeepsThePreviousReportAndIsCounted() throws Exception {
        String before = metrics.prometheus();
        assertEquals(0, sample(before, "siteward_expiry_watch_failures_total"));
        store.close(); // the next scan fails
        clock.advance(Duration.ofMinutes(2));
        String after = metrics.prometheus();
        assertEquals(1, sample(after, "siteward_expiry_watch_failures_total"));
        assertTrue(after.contains("siteward_certificate_expiry_seconds{kind=\"root\""), after);
        store = GatewayStore.openEmbedded(dir.resolve("data"));
    }
}
