package dev.siteward.device.cli;

import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceException.Reason;
import dev.siteward.device.GatewayTimeClient;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.device.store.DeviceState;
import dev.siteward.device.time.DeviceClock;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import picocli.CommandLine.Option;

/**
 * How a command gets its time: {@code --no-rtc} for a device without a real-time clock, {@code --clock-skew}, and
 * the hidden test hook {@code --local-clock} (or system property {@value #LOCAL_CLOCK_PROPERTY}) that makes the
 * device's local clock read a given instant (and tick from there), for end-to-end tests of a device whose JVM clock
 * cannot be changed. Never use the hook on a real device.
 */
final class ClockOptions {

    /** Test hook: the instant the local clock starts at. */
    static final String LOCAL_CLOCK_PROPERTY = "siteward.device.localClock";

    @Option(names = "--no-rtc", description = "This device has no real-time clock: take the time from the gateway "
            + "(/.well-known/siteward, believed only when it says clockTrusted) instead of the local clock.")
    boolean noRtc;

    @Option(names = "--clock-skew", paramLabel = "DURATION", defaultValue = "5m",
            converter = ModelCommand.DurationConverter.class,
            description = "Without a real-time clock: the most the gateway's time may be uncertain (round trip) or "
                    + "behind this device's recorded time and still be taken (default 5m, at most 1h).")
    Duration skew = DeviceClock.DEFAULT_SKEW;

    @Option(names = "--local-clock", hidden = true, paramLabel = "INSTANT",
            description = "Test hook: the local clock starts at this instant.")
    String localClock;

    /** Opens the device directory's clock without talking to the gateway. */
    DeviceClock open(DeviceDirectory dir) throws DeviceException {
        DeviceClock.Options o = DeviceClock.Options.defaults().withNoRtc(noRtc);
        try {
            o = o.withSkew(skew);
        } catch (IllegalArgumentException e) {
            throw new DeviceException(Reason.BAD_INPUT, "--clock-skew: " + e.getMessage());
        }
        Instant start = localStart();
        if (start != null) {
            Clock system = Clock.systemUTC();
            o = o.withLocal(Clock.offset(system, Duration.between(system.instant(), start)), System::nanoTime);
        }
        return DeviceClock.open(dir.path(), o);
    }

    /**
     * Opens the clock of an enrolled device and, when its local clock is not trusted, learns the gateway's time
     * over its pinned root; then records the time.
     */
    DeviceClock synced(DeviceDirectory dir) throws DeviceException {
        DeviceClock clock = open(dir);
        if (clock.needsGatewayTime()) {
            DeviceState state = dir.load();
            GatewayTimeClient.forRoot(state.enrollUrl(), state.root(), System::nanoTime).synchronize(clock);
        }
        clock.record();
        return clock;
    }

    private Instant localStart() throws DeviceException {
        String v = localClock != null ? localClock : System.getProperty(LOCAL_CLOCK_PROPERTY);
        if (v == null || v.isBlank()) {
            return null;
        }
        try {
            return Instant.parse(v.strip());
        } catch (DateTimeException e) {
            throw new DeviceException(Reason.BAD_INPUT, "--local-clock: '" + v + "' is not an instant");
        }
    }
}
