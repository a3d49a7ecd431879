package dev.siteward.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RenewalSchedulerTest {

    @TempDir
    static Path tmp;
    static TestPki pki;
    static MutableClock clock;

    @BeforeAll
    static void ca() {
        clock = MutableClock.atDefaultStart();
        pki = TestPki.create(tmp.resolve("ca"), clock);
    }

    @AfterAll
    static void close() {
        pki.close();
    }

    private static Duration lifetime(X509Certificate c) {
        return Duration.between(c.getNotBefore().toInstant(), c.getNotAfter().toInstant());
    }

    @Test
    void renewalIsPlannedAtTwoThirdsOfTheLifetimeWithinFivePercentJitter() {
        X509Certificate cert = pki.issueDevice("pump-1").certificate();
        Duration life = lifetime(cert);
        Instant nominal = cert.getNotBefore().toInstant().plus(life.multipliedBy(2).dividedBy(3));
        Duration bound = life.dividedBy(20);
        for (int seed = 0; seed < 200; seed++) {
            Instant planned = new RenewalScheduler(new Random(seed)).plannedRenewal(cert);
            assertTrue(!planned.isBefore(nominal.minus(bound)) && !planned.isAfter(nominal.plus(bound)),
                    "seed " + seed + ": " + planned + " not within " + bound + " of " + nominal);
        }
    }

    @Test
    void aCertificateIsNotDueBeforeItsRenewalTimeAndIsDueOnceTheClockPassesIt() {
        X509Certificate cert = pki.issueDevice("pump-2").certificate();
        RenewalScheduler scheduler = new RenewalScheduler(new Random(7));
        Instant planned = scheduler.plannedRenewal(cert);
        MutableClock moved = new MutableClock(clock.instant());

        assertFalse(scheduler.due(cert, moved.instant()));
        assertEquals(planned, scheduler.nextRenewal(cert, moved.instant()));

        moved.set(planned.minusSeconds(1));
        assertFalse(scheduler.due(cert, moved.instant()));

        moved.set(planned);
        assertTrue(scheduler.due(cert, moved.instant()));
    }

    @Test
    void aCertificatePastItsRenewalTimeIsRenewedAtOnce() {
        X509Certificate cert = pki.issueDevice("pump-3").certificate();
        RenewalScheduler scheduler = new RenewalScheduler(new Random(1));
        Instant late = cert.getNotAfter().toInstant().minus(Duration.ofHours(1));
        assertEquals(late, scheduler.nextRenewal(cert, late));
    }

    @Test
    void theJitterIsDrawnOncePerCertificateSoTheAnswerIsStable() {
        X509Certificate cert = pki.issueDevice("pump-4").certificate();
        RenewalScheduler scheduler = new RenewalScheduler(new Random());
        Instant first = scheduler.plannedRenewal(cert);
        clock.advance(Duration.ofDays(1));
        assertEquals(first, scheduler.nextRenewal(cert, clock.instant()));
    }

    @Test
    void devicesEnrolledTogetherDoNotAllRenewAtTheSameInstant() {
        Set<Instant> planned = new HashSet<>();
        RenewalScheduler scheduler = new RenewalScheduler(new Random(42));
        for (int i = 0; i < 10; i++) {
            planned.add(scheduler.plannedRenewal(pki.issueDevice("fleet-" + i).certificate()));
        }
        assertTrue(planned.size() >= 9, "planned renewals collide: " + planned);
    }

    @Test
    void theRenewalTimeNeverComesBeforeIssuanceOrAfterNinetyPercentOfTheLifetime() {
        X509Certificate cert = pki.issueDevice("pump-5").certificate();
        Duration life = lifetime(cert);
        Random extreme = new Random() {
            @Override
            public double nextDouble() {
                return 0.999999;
            }
        };
        Instant planned = new RenewalScheduler(extreme).plannedRenewal(cert);
        assertTrue(planned.isBefore(cert.getNotBefore().toInstant().plus(life.multipliedBy(9).dividedBy(10))));
        assertNotEquals(cert.getNotBefore().toInstant(), planned);
    }
}
