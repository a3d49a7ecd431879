package dev.siteward.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.device.DeviceException.Reason;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.device.store.DeviceState;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestKeys;
import dev.siteward.pki.testkit.TestCsr;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Renewal against the in-code test CA standing in for the gateway's simplereenroll. */
class RenewalClientTest {

    @TempDir
    static Path ca;
    @TempDir
    Path tmp;
    static TestPki pki;
    DeviceDirectory dir;
    Pkcs12DeviceKeyStore keys;
    DeviceIdentity enrolled;
    final List<Duration> slept = new java.util.ArrayList<>();

    @BeforeAll
    static void pki() {
        pki = TestPki.create(ca.resolve("ca"), MutableClock.atDefaultStart());
    }

    @AfterAll
    static void close() {
        pki.close();
    }

    @BeforeEach
    void enroll() throws Exception {
        dir = new DeviceDirectory(tmp.resolve("dev"));
        keys = new Pkcs12DeviceKeyStore(dir.keysDir(), pki.clock());
        enrolled = TestDevices.enrolled(pki, dir, "pump-7");
    }

    private RenewalClient renewal(RenewalClient.Reenrollment gateway) {
        return new RenewalClient(dir, keys, gateway, pki.clock(),
                new RetryPolicy(new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(8), new Random(1)), 4,
                        slept::add));
    }

    private void assertStillTheEnrolledCredential() throws Exception {
        DeviceState now = dir.load();
        assertEquals(enrolled.certificate(), now.certificate());
        assertEquals(enrolled.state().key(), now.key());
        assertEquals(enrolled.privateKey().getAlgorithm(), keys.load(now.key()).getAlgorithm());
        try (var files = Files.list(dir.keysDir())) {
            assertEquals(2, files.count(), "only the working key's two files");
        }
    }

    @Test
    void aRenewalCommitsANewKeyAndCertificateForTheSameIdentity() throws Exception {
        DeviceIdentity renewed = renewal(csr -> TestDevices.issue(pki, csr, "pump-7")).renew();

        DeviceState stored = dir.load();
        assertEquals("pump-7", stored.deviceId());
        assertEquals(renewed.certificate(), stored.certificate());
        assertNotEquals(enrolled.certificate().getSerialNumber(), stored.certificate().getSerialNumber());
        assertNotEquals(enrolled.certificate().getPublicKey(), stored.certificate().getPublicKey());
        assertEquals(stored.certificate().getPublicKey(), renewed.certificate().getPublicKey());
        assertFalse(Files.exists(keys.keyFile(enrolled.state().key().name())), "the old key is removed");
        assertTrue(Files.exists(keys.keyFile(stored.key().name())));
        assertTrue(stored.renewedAt() != null);
    }

    @Test
    void aRefusedRenewalKeepsTheWorkingCredentialAndIsNotRetried() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        DeviceException e = assertThrows(DeviceException.class, () -> renewal(csr -> {
            calls.incrementAndGet();
            throw new DeviceException(Reason.REFUSED, "403 auth.certificate_revoked");
        }).renew());
        assertEquals(Reason.REFUSED, e.reason());
        assertEquals(1, calls.get());
        assertStillTheEnrolledCredential();
    }

    @Test
    void anUnreachableGatewayIsRetriedWithBackoffAndTheRenewalThenSucceeds() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        DeviceIdentity renewed = renewal(csr -> {
            if (calls.incrementAndGet() < 3) {
                throw new DeviceException(Reason.UNREACHABLE, "connection refused");
            }
            return TestDevices.issue(pki, csr, "pump-7");
        }).renew();
        assertEquals(3, calls.get());
        assertEquals(2, slept.size());
        assertEquals(renewed.certificate(), dir.load().certificate());
    }

    @Test
    void aGatewayThatStaysUnreachableLeavesTheWorkingCredential() throws Exception {
        DeviceException e = assertThrows(DeviceException.class, () -> renewal(csr -> {
            throw new DeviceException(Reason.UNREACHABLE, "connection refused");
        }).renew());
        assertTrue(e.retryable());
        assertEquals(3, slept.size());
        assertStillTheEnrolledCredential();
    }

    @Test
    void aCertificateForAnotherKeyIsRefusedAndTheWorkingCredentialKept() throws Exception {
        var stranger = TestKeys.p256();
        DeviceException e = assertThrows(DeviceException.class, () -> renewal(
                csr -> TestDevices.issue(pki, TestCsr.forKey(stranger).der(), "pump-7")).renew());
        assertEquals(Reason.PROTOCOL, e.reason());
        assertStillTheEnrolledCredential();
    }

    @Test
    void aCertificateForAnotherDeviceIsRefusedAndTheWorkingCredentialKept() throws Exception {
        DeviceException e = assertThrows(DeviceException.class,
                () -> renewal(csr -> TestDevices.issue(pki, csr, "pump-8")).renew());
        assertEquals(Reason.PROTOCOL, e.reason());
        assertStillTheEnrolledCredential();
    }

    @Test
    void aCertificateFromAnotherSiteIsRefusedAndTheWorkingCredentialKept() throws Exception {
        try (TestPki other = pki.otherCa(tmp.resolve("other"))) {
            DeviceException e = assertThrows(DeviceException.class,
                    () -> renewal(csr -> TestDevices.issue(other, csr, "pump-7")).renew());
            assertEquals(Reason.UNTRUSTED_GATEWAY, e.reason());
        }
        assertStillTheEnrolledCredential();
    }

    @Test
    void theRenewalSchedulerTellsWhenTheEnrolledCertificateIsDue() {
        X509Certificate cert = enrolled.certificate();
        RenewalScheduler scheduler = new RenewalScheduler(new Random(5));
        MutableClock clock = new MutableClock(pki.clock().instant());
        assertFalse(scheduler.due(cert, clock.instant()));
        clock.set(cert.getNotAfter().toInstant().minus(Duration.ofDays(1)));
        assertTrue(scheduler.due(cert, clock.instant()));
    }
}
