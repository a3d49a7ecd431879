package dev.siteward.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.device.DeviceException.Reason;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Background renewal driven by a recording executor: tasks run when the test says, delays are only recorded. */
class BackgroundRenewalTest {

    @TempDir
    static Path ca;
    @TempDir
    Path tmp;
    static TestPki pki;

    @BeforeAll
    static void pki() {
        pki = TestPki.create(ca.resolve("ca"), MutableClock.atDefaultStart());
    }

    @AfterAll
    static void close() {
        pki.close();
    }

    /** Records what is scheduled and with which delay; {@link #runNext()} runs the latest task. */
    static final class RecordingExecutor extends ScheduledThreadPoolExecutor {
        final List<Duration> delays = new ArrayList<>();
        final List<Runnable> tasks = new ArrayList<>();

        RecordingExecutor() {
            super(1);
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            delays.add(Duration.ofMillis(unit.toMillis(delay)));
            tasks.add(command);
            return new ScheduledFuture<Object>() {
                public long getDelay(TimeUnit u) {
                    return 0;
                }

                public int compareTo(Delayed o) {
                    return 0;
                }

                public boolean cancel(boolean b) {
                    return true;
                }

                public boolean isCancelled() {
                    return false;
                }

                public boolean isDone() {
                    return false;
                }

                public Object get() {
                    return null;
                }

                public Object get(long t, TimeUnit u) {
                    return null;
                }
            };
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        void runNext() {
            tasks.get(tasks.size() - 1).run();
        }
    }

    @Test
    void theFirstRenewalIsPlannedAtTheSchedulersTimeAndTheNextFromTheRenewedCertificate() throws Exception {
        DeviceDirectory dir = new DeviceDirectory(tmp.resolve("dev"));
        AtomicReference<DeviceIdentity> current = new AtomicReference<>(TestDevices.enrolled(pki, dir, "pump-1"));
        RenewalClient renewal = new RenewalClient(dir, new Pkcs12DeviceKeyStore(dir.keysDir(), pki.clock()),
                csr -> TestDevices.issue(pki, csr, "pump-1"), pki.clock(), RetryPolicy.once()).onRenewed(current::set);
        RenewalScheduler scheduler = new RenewalScheduler(new Random(9));
        RecordingExecutor executor = new RecordingExecutor();
        List<DeviceException> failures = new ArrayList<>();
        var enrolledCert = current.get().certificate();

        try (BackgroundRenewal background = new BackgroundRenewal(renewal, current::get, scheduler, pki.clock(),
                executor, failures::add)) {
            background.start();
            assertEquals(Duration.between(pki.clock().instant(), scheduler.plannedRenewal(enrolledCert)),
                    executor.delays.get(0));

            executor.runNext();
            assertNotEquals(enrolledCert.getSerialNumber(), current.get().certificate().getSerialNumber());
            assertEquals(current.get().certificate(), dir.load().certificate());
            assertEquals(2, executor.delays.size(), "the next renewal is planned");
            assertTrue(failures.isEmpty());
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void aSecurityRefusalIsReportedAndRenewalStopsWhileAnOutageIsTriedAgainLater() throws Exception {
        DeviceDirectory dir = new DeviceDirectory(tmp.resolve("dev"));
        DeviceIdentity id = TestDevices.enrolled(pki, dir, "pump-2");
        AtomicInteger calls = new AtomicInteger();
        RenewalClient renewal = new RenewalClient(dir, new Pkcs12DeviceKeyStore(dir.keysDir(), pki.clock()), csr -> {
            throw new DeviceException(calls.incrementAndGet() == 1 ? Reason.UNREACHABLE : Reason.REFUSED, "no");
        }, pki.clock(), RetryPolicy.once());
        RecordingExecutor executor = new RecordingExecutor();
        List<DeviceException> failures = new ArrayList<>();
        try (BackgroundRenewal background = new BackgroundRenewal(renewal, () -> id,
                new RenewalScheduler(new Random(3)), pki.clock(), executor, failures::add)) {
            background.start();
            executor.runNext();
            assertEquals(BackgroundRenewal.RETRY_LATER, executor.delays.get(1));
            executor.runNext();
            assertEquals(2, failures.size());
            assertEquals(Reason.REFUSED, failures.get(1).reason());
            assertEquals(2, executor.delays.size(), "no renewal is planned after a refusal");
            assertEquals(id.certificate(), dir.load().certificate());
        } finally {
            executor.shutdownNow();
        }
    }
}
