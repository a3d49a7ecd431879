package dev.siteward.device.time;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The gateway's time as one {@code GET /.well-known/siteward} reported it.
 *
 * @param time          the gateway's {@code time}
 * @param lastRecorded  the gateway's {@code lastRecordedTime} (may be null from an older gateway)
 * @param clockTrusted  the gateway's {@code clockTrusted}: false means its clock is behind its own record
 * @param roundTrip     how long the request took (the uncertainty of {@code time})
 * @param receivedNanos the monotonic clock ({@link System#nanoTime} or the injected source) when the answer arrived
 */
public record GatewayTimeSample(Instant time, Instant lastRecorded, boolean clockTrusted, Duration roundTrip,
                                long receivedNanos) {

    public GatewayTimeSample {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(roundTrip, "roundTrip");
    }
}
