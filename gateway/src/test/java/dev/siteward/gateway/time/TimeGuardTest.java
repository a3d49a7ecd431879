package dev.siteward.gateway.time;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.gateway.GatewayException;
import dev.siteward.pki.testkit.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trusted time with an injected wall clock and monotonic clock: backwards refused, forward jumps flagged. */
class TimeGuardTest {

    private static final Duration TOLERANCE = Duration.ofMinutes(5);

    @TempDir
    Path data;
    MutableClock clock;
    AtomicLong nanos;

    @BeforeEach
    void setUp() {
        clock = MutableClock.atDefaultStart();
        nanos = new AtomicLong(1_000_000_000L);
    }

    private TimeGuard open() throws Exception {
        return TimeGuard.open(data, clock, nanos::get, TOLERANCE);
    }

    /** Both clocks move together: time passing normally. */
    private void pass(Duration d) {
        clock.advance(d);
        nanos.addAndGet(d.toNanos());
    }

    @Test
    void aNewSiteRecordsItsTimeAndTheRecordMovesForwardWithTheClock() throws Exception {
        TimeGuard guard = open();
        assertEquals(clock.instant(), TimeRecord.read(data).latest());
        pass(Duration.ofMinutes(1));
        guard.tick();
        assertEquals(clock.instant(), TimeRecord.read(data).latest());
        assertTrue(guard.trusted());
        assertTrue(Files.readString(data.resolve(TimeRecord.FILE)).contains("\"latest\""));
    }

    @Test
    void startingOnAClockEarlierThanTheRecordBeyondTheToleranceIsRefusedAndWithinItAllowed() throws Exception {
        open().close();
        Instant recorded = TimeRecord.read(data).latest();
        clock.set(recorded.minus(Duration.ofMinutes(4)));
        open();
        clock.set(recorded.minus(Duration.ofHours(3)));
        GatewayException e = assertThrows(GatewayException.class, this::open);
        assertEquals("gateway.clock_untrusted", e.reason().code());
        assertTrue(e.getMessage().contains("3h earlier") && e.getMessage().contains("siteward time accept"),
                e.getMessage());
        assertEquals(recorded, TimeRecord.read(data).latest(), "a refused start changes nothing");
    }

    @Test
    void aClockThatGoesBackWhileRunningStopsTheGatewayActingUntilItCatchesUp() throws Exception {
        TimeGuard guard = open();
        pass(Duration.ofHours(1));
        guard.tick();
        Instant recorded = clock.instant();
        clock.set(recorded.minus(Duration.ofDays(2)));
        nanos.addAndGet(Duration.ofMinutes(1).toNanos());
        guard.tick();
        assertFalse(guard.trusted());
        assertEquals("gateway.clock_untrusted", assertThrows(GatewayException.class, guard::requireTrusted)
                .reason().code());
        assertEquals(recorded, TimeRecord.read(data).latest(), "a clock behind the record never lowers it");
        guard.close();
        assertEquals(recorded, TimeRecord.read(data).latest(), "nor does the shutdown record");

        clock.set(recorded.plus(Duration.ofMinutes(1)));
        guard.tick();
        assertTrue(guard.trusted());
        guard.requireTrusted();
    }

    @Test
    void anOperatorCanConfirmAnEarlierClockAndTheGatewayStartsAgain() throws Exception {
        open().close();
        Instant recorded = TimeRecord.read(data).latest();
        clock.set(recorded.minus(Duration.ofDays(30)));
        assertThrows(GatewayException.class, this::open);
        TimeRecord accepted = TimeGuard.acceptOffline(data, clock, "local:ops");
        assertEquals(recorded, accepted.acceptedFrom());
        assertEquals("local:ops", TimeRecord.read(data).acceptedBy());
        TimeGuard guard = open();
        assertTrue(guard.trusted());
        assertEquals(clock.instant(), guard.status().lastRecorded());
    }

    @Test
    void aRunningGatewayIsConfirmedThroughAccept() throws Exception {
        TimeGuard guard = open();
        Instant recorded = clock.instant();
        clock.set(recorded.minus(Duration.ofHours(2)));
        guard.tick();
        assertFalse(guard.trusted());
        TimeGuard.Status s = guard.accept("sam");
        assertTrue(s.trusted());
        assertEquals("sam", s.acceptedBy());
        assertEquals(clock.instant(), TimeRecord.read(data).latest());
        assertEquals(recorded, TimeRecord.read(data).acceptedFrom());
    }

    @Test
    void aForwardJumpIsFlaggedUntilConfirmedWhileNormalTimePassingIsNot() throws Exception {
        TimeGuard guard = open();
        pass(Duration.ofHours(6));
        guard.tick();
        assertTrue(guard.unconfirmedForwardJump().isEmpty());
        clock.advance(Duration.ofDays(400)); // the wall clock jumps; the monotonic clock moves one minute
        nanos.addAndGet(Duration.ofMinutes(1).toNanos());
        guard.tick();
        assertEquals(clock.instant(), guard.unconfirmedForwardJump().orElseThrow());
        assertTrue(guard.status().forwardJump().compareTo(Duration.ofDays(399)) > 0);
        assertTrue(guard.trusted(), "a forward jump is not refused, only flagged");
        guard.accept("sam");
        assertTrue(guard.unconfirmedForwardJump().isEmpty());
    }

    @Test
    void onlyDiagnosisAndConfirmationAreAllowedWhileTimeIsUntrusted() {
        assertTrue(TimeGuard.allowedWhileUntrusted("GET", "/health"));
        assertTrue(TimeGuard.allowedWhileUntrusted("GET", "/.well-known/siteward"));
        assertTrue(TimeGuard.allowedWhileUntrusted("GET", "/v1/admin/devices"));
        assertTrue(TimeGuard.allowedWhileUntrusted("POST", "/v1/admin/time/accept"));
        assertFalse(TimeGuard.allowedWhileUntrusted("POST", "/.well-known/est/simpleenroll"));
        assertFalse(TimeGuard.allowedWhileUntrusted("POST", "/.well-known/est/simplereenroll"));
        assertFalse(TimeGuard.allowedWhileUntrusted("POST", "/v1/admin/tokens"));
        assertFalse(TimeGuard.allowedWhileUntrusted("POST", "/v1/admin/certificates"));
        assertFalse(TimeGuard.allowedWhileUntrusted("GET", "/v1/whoami"));
    }

    @Test
    void theMetricsShowAnUntrustedClockAndAnUnconfirmedForwardJumpUntilResolved() throws Exception {
        TimeGuard guard = open();
        TimeMetrics metrics = new TimeMetrics(guard);
        assertTrue(metrics.prometheus().contains("\nsiteward_clock_trusted 1\n"), metrics.prometheus());
        assertTrue(metrics.prometheus().contains("\nsiteward_clock_forward_jump_unconfirmed 0\n"));
        pass(Duration.ofMinutes(10));
        guard.tick();
        Instant recorded = clock.instant();
        assertTrue(metrics.prometheus().contains("\nsiteward_clock_last_recorded_timestamp_seconds "
                + recorded.getEpochSecond() + ".000\n"), metrics.prometheus());

        clock.set(recorded.minus(Duration.ofDays(1)));
        guard.tick();
        assertTrue(metrics.prometheus().contains("\nsiteward_clock_trusted 0\n"), metrics.prometheus());
        clock.set(recorded.plus(Duration.ofDays(30))); // back past the record, by a jump the monotonic clock denies
        guard.tick();
        String text = metrics.prometheus();
        assertTrue(text.contains("\nsiteward_clock_trusted 1\n"), text);
        assertTrue(text.contains("\nsiteward_clock_forward_jump_unconfirmed 1\n"), text);
        guard.accept("sam");
        assertTrue(metrics.prometheus().contains("\nsiteward_clock_forward_jump_unconfirmed 0\n"));
    }
}
