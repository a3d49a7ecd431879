package dev.siteward.gateway.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.testkit.MutableClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SourceRateLimiterTest {

    @Test
    void burstIsAllowedThenRequestsWaitForTheRateAndSourcesAreIndependent() {
        MutableClock clock = MutableClock.atDefaultStart();
        SourceRateLimiter limiter = new SourceRateLimiter(2, 3, clock);
        assertTrue(limiter.tryAcquire("10.0.0.1"));
        assertTrue(limiter.tryAcquire("10.0.0.1"));
        assertTrue(limiter.tryAcquire("10.0.0.1"));
        assertFalse(limiter.tryAcquire("10.0.0.1"), "burst of 3 used");
        assertTrue(limiter.tryAcquire("10.0.0.2"), "another source has its own bucket");
        clock.advance(Duration.ofMillis(499));
        assertFalse(limiter.tryAcquire("10.0.0.1"));
        clock.advance(Duration.ofMillis(2));
        assertTrue(limiter.tryAcquire("10.0.0.1"), "one token back after 1/rate");
        clock.advance(Duration.ofHours(1));
        for (int i = 0; i < 3; i++) {
            assertTrue(limiter.tryAcquire("10.0.0.1"));
        }
        assertFalse(limiter.tryAcquire("10.0.0.1"), "never more than the burst");
    }
}
