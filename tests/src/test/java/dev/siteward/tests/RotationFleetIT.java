package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceHttpClient;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.EnrollmentClient;
import dev.siteward.device.EnrollmentRequest;
import dev.siteward.device.RenewalClient;
import dev.siteward.device.RetryPolicy;
import dev.siteward.device.Whoami;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.tests.Processes.Result;
import java.nio.file.Path;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issuing-CA rotation under load: a fleet of SDK devices enrolled with the real gateway calls whoami continuously,
 * one thread per device, while {@code siteward ca rotate} runs through the CLI and every device renews onto the new
 * generation with the SDK's {@link RenewalClient} — and not one request fails.
 */
class RotationFleetIT {

    static final int DEVICES = 12;
    /**
     * Pause between one device's requests: 10 requests a second, half the gateway's default per-device request rate
     * (20/s), as a busy device would poll; faster and the fleet measures the rate limit instead of the rotation.
     */
    static final long PAUSE_MILLIS = 100;
    static final Clock CLOCK = Clock.systemUTC();
    static final Map<String, String> ENV = Map.of("SITEWARD_CA_PASSPHRASE", "rotation fleet passphrase");

    @TempDir
    Path work;

    /** One device of the fleet: its directory, its client, and what its thread saw. */
    static final class Device {
        final String id;
        final DeviceDirectory dir;
        final DeviceHttpClient http;
        final AtomicLong ok = new AtomicLong();
        final AtomicLong okAfterRenewal = new AtomicLong();
        volatile DeviceIdentity renewed;

        Device(String id, DeviceDirectory dir, DeviceHttpClient http) {
            this.id = id;
            this.dir = dir;
            this.http = http;
        }
    }

    @Test
    void aFleetKeepsWorkingWithNoFailedRequestWhileTheIssuingCaRotatesAndEveryDeviceRenewsOntoTheNewGeneration()
            throws Exception {
        try (GatewayProcess gw = GatewayProcess.start(work.resolve("gateway-data"), ENV)) {
            String pin = gw.rootFingerprint();
            List<Device> fleet = new ArrayList<>();
            for (int i = 1; i <= DEVICES; i++) {
                String id = "meter-" + i;
                DeviceDirectory dir = new DeviceDirectory(work.resolve(id));
                DeviceIdentity identity = new EnrollmentClient(CLOCK, RetryPolicy.once()).enroll(
                        EnrollmentRequest.of(gw.enrollUrl().toString(), gw.token(id, null), pin), dir,
                        new Pkcs12DeviceKeyStore(dir.keysDir(), CLOCK));
                assertTrue(identity.certificate().getIssuerX500Principal().getName().contains("Issuing CA 1"));
                fleet.add(new Device(id, dir, new DeviceHttpClient(identity, CLOCK)));
            }

            AtomicBoolean stop = new AtomicBoolean();
            AtomicBoolean rotated = new AtomicBoolean();
            AtomicInteger failed = new AtomicInteger();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            CountDownLatch warmedUp = new CountDownLatch(DEVICES);
            CountDownLatch renewedAll = new CountDownLatch(DEVICES);
            List<Thread> threads = new ArrayList<>();
            for (Device d : fleet) {
                Thread t = new Thread(() -> runDevice(d, stop, rotated, failed, failures, warmedUp, renewedAll),
                        "device-" + d.id);
                t.start();
                threads.add(t);
            }
            try {
                assertTrue(warmedUp.await(60, TimeUnit.SECONDS), "every device got its first answers");

                Result rotate = gw.cli("ca", "rotate");
                assertEquals(0, rotate.exitCode(), rotate.both());
                assertTrue(rotate.stdout().contains("Issuing CA 2"), rotate.stdout());
                rotated.set(true);

                assertTrue(renewedAll.await(120, TimeUnit.SECONDS), "every device renewed; " + failed.get()
                        + " failures, first: " + failures);
                long target = fleet.stream().mapToLong(x -> x.okAfterRenewal.get()).min().orElse(0) + 5;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (fleet.stream().anyMatch(x -> x.okAfterRenewal.get() < target)
                        && System.nanoTime() < deadline && failed.get() == 0) {
                    Thread.sleep(50);
                }
            } finally {
                stop.set(true);
                for (Thread t : threads) {
                    t.join(30_000);
                }
            }

            assertEquals(0, failed.get(), "failed requests, first: " + failures);
            long total = fleet.stream().mapToLong(x -> x.ok.get()).sum();
            assertTrue(total > DEVICES * 10L, "the fleet kept calling: " + total + " requests");
            System.out.println("RotationFleetIT: " + DEVICES + " devices, " + total + " whoami requests, 0 failed");

            X509Certificate root = fleet.get(0).http.identity().root();
            for (Device d : fleet) {
                DeviceIdentity now = d.renewed;
                X509Certificate leaf = now.certificate();
                X509Certificate issuer = now.chain().get(1);
                assertTrue(issuer.getSubjectX500Principal().getName().contains("Issuing CA 2"),
                        d.id + " renewed onto generation 2: " + issuer.getSubjectX500Principal());
                leaf.verify(issuer.getPublicKey());
                issuer.verify(root.getPublicKey());
                validatesToRoot(List.of(leaf, issuer), root);
                assertEquals(leaf, d.dir.load().certificate(), d.id + " committed the renewal to its directory");
                assertTrue(d.okAfterRenewal.get() >= 5, d.id + " kept working on its new certificate");
                Whoami me = d.http.whoami();
                assertEquals(d.id, me.id());
                assertEquals(leaf.getSerialNumber().toString(16), me.serial(), "the gateway sees the new certificate");
            }

            Result show = gw.cli("ca", "show");
            assertEquals(0, show.exitCode(), show.both());
            assertTrue(show.stdout().contains("Issuing CA 2"), show.stdout());
            assertTrue(show.stdout().contains("still trusted"), "generation 1 stays trusted while the "
                    + "certificates it issued are valid: " + show.stdout());
        }
    }

    /**
     * A device's thread: whoami in a loop, counting every failure; once the CA has rotated it renews once with the
     * SDK's renewal client (no retries, so a failed renewal counts) and carries on with the new certificate.
     */
    private static void runDevice(Device d, AtomicBoolean stop, AtomicBoolean rotated, AtomicInteger failed,
                                  ConcurrentLinkedQueue<String> failures, CountDownLatch warmedUp,
                                  CountDownLatch renewedAll) {
        boolean counted = false;
        while (!stop.get()) {
            try {
                if (rotated.get() && d.renewed == null) {
                    d.renewed = RenewalClient.over(d.http, d.dir, new Pkcs12DeviceKeyStore(d.dir.keysDir(), CLOCK),
                            CLOCK, RetryPolicy.once()).renew();
                    renewedAll.countDown();
                }
                Whoami me = d.http.whoami();
                if (!d.id.equals(me.id())) {
                    failed.incrementAndGet();
                    failures.add(d.id + ": whoami answered " + me.id());
                    continue;
                }
                d.ok.incrementAndGet();
                if (d.renewed != null) {
                    d.okAfterRenewal.incrementAndGet();
                }
                if (!counted && d.ok.get() >= 3) {
                    counted = true;
                    warmedUp.countDown();
                }
                Thread.sleep(PAUSE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (DeviceException | RuntimeException e) {
                if (failed.incrementAndGet() <= 20) {
                    failures.add(d.id + ": " + e);
                }
                if (d.renewed == null && rotated.get()) {
                    return; // a failed renewal: counted; do not hammer
                }
            }
        }
    }

    private static void validatesToRoot(List<X509Certificate> chain, X509Certificate root) throws Exception {
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(chain),
                params);
    }
}
