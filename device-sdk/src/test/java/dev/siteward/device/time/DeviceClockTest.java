package dev.siteward.device.time;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.device.DeviceException;
import dev.siteward.pki.testkit.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceClockTest {

    private static final Instant BUILD = Instant.parse("2026-11-01T00:00:00Z");
    private static final Instant GATEWAY = Instant.parse("2026-11-27T06:00:00Z");

    @TempDir
    Path dir;

    private final MutableClock local = new MutableClock(Instant.parse("1970-01-01T00:00:00Z"));
    private final AtomicLong nanos = new AtomicLong();

    private DeviceClock open() throws DeviceException {
        return DeviceClock.open(dir, DeviceClock.Options.defaults().withLocal(local, nanos::get).withBuildTime(BUILD));
    }

    private GatewayTimeSample sample(Instant time, boolean trusted, Duration roundTrip) {
        return new GatewayTimeSample(time, time, trusted, roundTrip, nanos.get());
    }

    @Test
    void beforeAnyGatewayTimeADeviceWithoutRecordStartsAtTheSdksBuildTime() throws Exception {
        DeviceClock clock = open();
        assertEquals(BUILD, clock.instant());
        nanos.addAndGet(Duration.ofSeconds(7).toNanos());
        assertEquals(BUILD.plusSeconds(7), clock.instant());
    }

    @Test
    void theLearntTimeIsTheGatewaysPlusHalfTheRoundTripAndIsRecordedPrivately() throws Exception {
        DeviceClock clock = open();
        clock.learn(sample(GATEWAY, true, Duration.ofMillis(200)));
        assertEquals(GATEWAY.plusMillis(100), clock.instant());
        assertEquals(GATEWAY.plusMillis(100), clock.recorded());
        assertEquals("rw-------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve(DeviceClock.FILE))));
        assertEquals(Duration.between(local.instant(), GATEWAY.plusMillis(100)), clock.offset());
    }

    @Test
    void timeChecksTolerateTheSkewOnlyWhenTheTimeIsNotFromATrustedRealTimeClock() throws Exception {
        DeviceClock learnt = open();
        assertEquals(DeviceClock.DEFAULT_SKEW, learnt.tolerance());
        learnt.learn(sample(GATEWAY, true, Duration.ZERO));
        assertEquals(DeviceClock.DEFAULT_SKEW, DeviceClock.toleranceOf(learnt));
        local.set(GATEWAY);
        assertEquals(Duration.ZERO, open().tolerance());
        assertEquals(Duration.ZERO, DeviceClock.toleranceOf(local));
    }

    @Test
    void aSlowAnswerBeyondTheSkewIsNotTaken() throws Exception {
        DeviceClock clock = open();
        DeviceException e = assertThrows(DeviceException.class,
                () -> clock.learn(sample(GATEWAY, true, Duration.ofMinutes(6))));
        assertEquals(DeviceException.Reason.GATEWAY_TIME_UNTRUSTED, e.reason());
        assertEquals(DeviceClock.Source.RECORDED, clock.source());
    }

    @Test
    void aGatewayTimeSlightlyBehindTheRecordHoldsAtTheRecordAndFarBehindIsRefused() throws Exception {
        DeviceClock first = open();
        first.learn(sample(GATEWAY, true, Duration.ZERO));
        DeviceClock rebooted = open();
        rebooted.learn(sample(GATEWAY.minusSeconds(60), true, Duration.ZERO));
        assertEquals(GATEWAY, rebooted.instant(), "never moves backwards");
        DeviceException e = assertThrows(DeviceException.class,
                () -> open().learn(sample(GATEWAY.minus(Duration.ofHours(2)), true, Duration.ZERO)));
        assertEquals(DeviceException.Reason.GATEWAY_TIME_UNTRUSTED, e.reason());
        assertTrue(e.getMessage().contains("behind this device's recorded time"), e.getMessage());
        assertEquals(GATEWAY, open().recorded(), "the record is unchanged");
    }

    @Test
    void aLocalClockBehindTheRecordedTimeIsDetectedAsUntrusted() throws Exception {
        local.set(GATEWAY);
        DeviceClock clock = open();
        assertTrue(clock.localTrusted());
        clock.record();
        local.set(GATEWAY.minus(Duration.ofDays(3)));
        DeviceClock after = open();
        assertFalse(after.localTrusted());
        assertTrue(after.untrustedBecause().contains("behind the device's recorded time"));
        assertEquals(GATEWAY, after.instant());
        local.set(GATEWAY.minusSeconds(30));
        assertTrue(open().localTrusted(), "a lag within the skew is tolerated");
    }

    @Test
    void recordingNeverMovesTheRecordBackwards() throws Exception {
        local.set(GATEWAY);
        open().record();
        local.set(GATEWAY.minusSeconds(60));
        DeviceClock clock = open();
        clock.record();
        assertEquals(GATEWAY, open().recorded());
    }

    @Test
    void aSecondSampleNeverMovesALearntClockBackwards() throws Exception {
        DeviceClock clock = open();
        clock.learn(sample(GATEWAY, true, Duration.ZERO));
        nanos.addAndGet(Duration.ofSeconds(10).toNanos());
        clock.learn(sample(GATEWAY.plusSeconds(4), true, Duration.ZERO));
        assertEquals(GATEWAY.plusSeconds(10), clock.instant());
        clock.learn(sample(GATEWAY.plusSeconds(20), true, Duration.ZERO));
        assertEquals(GATEWAY.plusSeconds(20), clock.instant());
    }

    @Test
    void anUnreadableTimeFileIsAStorageFailureNamingTheFile() throws Exception {
        Files.writeString(dir.resolve(DeviceClock.FILE), "{\"latest\":\"yesterday\"}");
        DeviceException e = assertThrows(DeviceException.class, this::open);
        assertEquals(DeviceException.Reason.STORAGE, e.reason());
        assertTrue(e.getMessage().contains(DeviceClock.FILE));
    }

    @Test
    void aSkewOutsideZeroToOneHourIsRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> DeviceClock.Options.defaults().withSkew(Duration.ofHours(2)));
    }
}
