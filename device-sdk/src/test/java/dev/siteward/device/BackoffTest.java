package dev.siteward.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.device.DeviceException.Reason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BackoffTest {

    private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5), new Random(3));

    @Test
    void eachDelayLiesBetweenHalfTheCeilingAndTheCeiling() {
        for (int attempt = 0; attempt < 20; attempt++) {
            Duration ceiling = backoff.ceiling(attempt);
            for (int i = 0; i < 200; i++) {
                Duration d = backoff.delay(attempt);
                assertTrue(d.compareTo(ceiling.dividedBy(2)) >= 0 && d.compareTo(ceiling) <= 0,
                        "attempt " + attempt + ": " + d + " outside [" + ceiling.dividedBy(2) + ", " + ceiling + "]");
            }
        }
    }

    @Test
    void theCeilingDoublesUntilItReachesTheMaximumAndStaysThere() {
        assertEquals(Duration.ofSeconds(1), backoff.ceiling(0));
        assertEquals(Duration.ofSeconds(2), backoff.ceiling(1));
        assertEquals(Duration.ofSeconds(4), backoff.ceiling(2));
        assertEquals(Duration.ofSeconds(256), backoff.ceiling(8));
        assertEquals(Duration.ofMinutes(5), backoff.ceiling(9));
        assertEquals(Duration.ofMinutes(5), backoff.ceiling(1000));
    }

    @Test
    void delaysAreJitteredSoRetriesDoNotMoveInStep() {
        List<Duration> seen = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            seen.add(backoff.delay(5));
        }
        assertTrue(seen.stream().distinct().count() > 10, "too little jitter: " + seen);
    }

    @Test
    void transportFailuresAreRetriedWithTheBackoffUntilTheyStop() throws Exception {
        List<Duration> slept = new ArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        RetryPolicy retry = new RetryPolicy(backoff, 5, slept::add);
        String answer = retry.run(() -> {
            if (calls.incrementAndGet() < 3) {
                throw new DeviceException(Reason.UNREACHABLE, "connection refused");
            }
            return "issued";
        });
        assertEquals("issued", answer);
        assertEquals(3, calls.get());
        assertEquals(2, slept.size());
        assertTrue(slept.get(0).compareTo(Duration.ofSeconds(1)) <= 0);
        assertTrue(slept.get(1).compareTo(Duration.ofSeconds(2)) <= 0);
    }

    @Test
    void aSecurityRefusalIsNeverRetried() {
        AtomicInteger calls = new AtomicInteger();
        RetryPolicy retry = new RetryPolicy(backoff, 5, d -> { });
        DeviceException e = assertThrows(DeviceException.class, () -> retry.run(() -> {
            calls.incrementAndGet();
            throw new DeviceException(Reason.REFUSED, "403 auth.certificate_revoked");
        }));
        assertEquals(Reason.REFUSED, e.reason());
        assertEquals(1, calls.get());
    }

    @Test
    void retriesStopAfterTheMaximumNumberOfAttempts() {
        AtomicInteger calls = new AtomicInteger();
        RetryPolicy retry = new RetryPolicy(backoff, 4, d -> { });
        assertThrows(DeviceException.class, () -> retry.run(() -> {
            calls.incrementAndGet();
            throw new DeviceException(Reason.UNREACHABLE, "timeout");
        }));
        assertEquals(4, calls.get());
    }

    @Test
    void aRetryAfterLongerThanTheBackoffIsHonoured() throws Exception {
        List<Duration> slept = new ArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        new RetryPolicy(backoff, 3, slept::add).run(() -> {
            if (calls.incrementAndGet() == 1) {
                throw new DeviceException(Reason.RATE_LIMITED, "429", "request.rate_limited",
                        Duration.ofSeconds(30), null);
            }
            return null;
        });
        assertEquals(List.of(Duration.ofSeconds(30)), slept);
    }
}
