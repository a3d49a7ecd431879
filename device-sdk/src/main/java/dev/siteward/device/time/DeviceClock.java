package dev.siteward.device.time;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceException.Reason;
import dev.siteward.pki.SecureFiles;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.jar.Manifest;

/**
 * The time every SDK component reads. On a device whose real-time clock is trusted it is the local clock. On a device
 * without one — declared ({@code --no-rtc}) or detected (the local time is before the SDK's build time or behind the
 * device's last recorded time, by more than the skew) — it is the monotonic clock plus an offset: first from the last
 * recorded time (so a reboot starts from there, never from 1970), then from the gateway's time learnt with
 * {@link #learn(GatewayTimeSample)}.
 *
 * <p>The latest time the device has known is kept in {@code time.json} in the device directory (0600, replaced
 * atomically) and only ever moves forward: a learnt time behind it holds at it, or is refused when it is behind by
 * more than the skew. Thread-safe.
 */
public final class DeviceClock extends Clock {

    /** The default skew: how far a gateway sample may be uncertain, or behind the record, and still be taken. */
    public static final Duration DEFAULT_SKEW = Duration.ofMinutes(5);
    /** The time file in the device directory. */
    public static final String FILE = "time.json";
    /** Used when the SDK's build time is not in its jar manifest (a build from the IDE or the test classpath). */
    static final Instant FALLBACK_BUILD_TIME = Instant.parse("2026-11-01T00:00:00Z");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where the device's time comes from at this moment. */
    public enum Source {
        /** The local real-time clock, trusted. */
        LOCAL,
        /** No trusted real-time clock and no gateway time yet: the last recorded time plus the time since start. */
        RECORDED,
        /** No trusted real-time clock: the gateway's time plus the time since it was learnt. */
        GATEWAY
    }

    private final Path file;
    private final Clock local;
    private final LongSupplier nanos;
    private final Duration skew;
    private final Instant buildTime;
    private final String untrustedBecause;
    private final Object lock = new Object();
    private Instant recorded;
    private Instant anchor;
    private long anchorNanos;
    private Source source;

    private DeviceClock(Path file, Clock local, LongSupplier nanos, Duration skew, Instant buildTime,
                        String untrustedBecause, Instant recorded) {
        this.file = file;
        this.local = local;
        this.nanos = nanos;
        this.skew = skew;
        this.buildTime = buildTime;
        this.untrustedBecause = untrustedBecause;
        this.recorded = recorded;
        if (untrustedBecause == null) {
            source = Source.LOCAL;
        } else {
            source = Source.RECORDED;
            anchor = recorded == null ? buildTime : recorded.isBefore(buildTime) ? buildTime : recorded;
            anchorNanos = nanos.getAsLong();
        }
    }

    /** Options for {@link #open}. {@code noRtc}: the device declares it has no real-time clock. */
    public record Options(boolean noRtc, Duration skew, Clock local, LongSupplier nanos, Instant buildTime) {

        public Options {
            Objects.requireNonNull(skew, "skew");
            if (skew.isNegative() || skew.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("clock skew must be between 0 and 1 h, not " + skew);
            }
            Objects.requireNonNull(local, "local");
            Objects.requireNonNull(nanos, "nanos");
            Objects.requireNonNull(buildTime, "buildTime");
        }

        /** The system clock, {@link System#nanoTime}, the default skew and this SDK's build time. */
        public static Options defaults() {
            return new Options(false, DEFAULT_SKEW, Clock.systemUTC(), System::nanoTime, sdkBuildTime());
        }

        public Options withNoRtc(boolean value) {
            return new Options(value, skew, local, nanos, buildTime);
        }

        public Options withSkew(Duration value) {
            return new Options(noRtc, value, local, nanos, buildTime);
        }

        /** A different local clock (tests: a device whose clock says 1970). */
        public Options withLocal(Clock value, LongSupplier monotonicNanos) {
            return new Options(noRtc, skew, value, monotonicNanos, buildTime);
        }

        public Options withBuildTime(Instant value) {
            return new Options(noRtc, skew, local, nanos, value);
        }
    }

    /**
     * Opens the clock of the device directory {@code dir}: reads its recorded time (none yet is fine) and decides
     * whether the local clock is trusted. The directory need not exist yet (enrollment); nothing is written.
     */
    public static DeviceClock open(Path dir, Options options) throws DeviceException {
        Path file = dir.resolve(FILE);
        Instant recorded = readRecorded(file);
        Instant now = options.local().instant();
        String why = null;
        if (options.noRtc()) {
            why = "the device has no real-time clock (--no-rtc)";
        } else if (now.isBefore(options.buildTime().minus(options.skew()))) {
            why = "the local clock (" + now + ") is before this SDK was built (" + options.buildTime() + ")";
        } else if (recorded != null && now.isBefore(recorded.minus(options.skew()))) {
            why = "the local clock (" + now + ") is behind the device's recorded time (" + recorded + ")";
        }
        return new DeviceClock(file, options.local(), options.nanos(), options.skew(), options.buildTime(), why,
                recorded);
    }

    @Override
    public Instant instant() {
        synchronized (lock) {
            if (source == Source.LOCAL) {
                return local.instant();
            }
            return anchor.plusNanos(nanos.getAsLong() - anchorNanos);
        }
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        if (ZoneOffset.UTC.equals(zone)) {
            return this;
        }
        throw new UnsupportedOperationException("the device clock is UTC");
    }

    /** True while the local real-time clock is what this clock reads. */
    public boolean localTrusted() {
        return untrustedBecause == null;
    }

    /** Why the local clock is not used, or null when it is. */
    public String untrustedBecause() {
        return untrustedBecause;
    }

    /** True when the time must be learnt from the gateway before anything checks it. */
    public boolean needsGatewayTime() {
        synchronized (lock) {
            return source == Source.RECORDED;
        }
    }

    public Source source() {
        synchronized (lock) {
            return source;
        }
    }

    public Duration skew() {
        return skew;
    }

    /**
     * How far time checks (certificate validity, release metadata expiry) tolerate this clock being off: zero on a
     * trusted real-time clock, the skew while the time is learnt or carried over from the record.
     */
    public Duration tolerance() {
        return source() == Source.LOCAL ? Duration.ZERO : skew;
    }

    /** The {@link #tolerance()} of {@code clock} when it is a device clock, else zero. */
    public static Duration toleranceOf(Clock clock) {
        return clock instanceof DeviceClock d ? d.tolerance() : Duration.ZERO;
    }

    /** The local clock's reading (which this clock may not be using). */
    public Instant localInstant() {
        return local.instant();
    }

    /** How far this clock is ahead of the local clock (negative: behind). */
    public Duration offset() {
        return Duration.between(local.instant(), instant());
    }

    /** The latest time recorded in the device directory, or null when none yet. */
    public Instant recorded() {
        synchronized (lock) {
            return recorded;
        }
    }

    /**
     * Takes the gateway's time from a sample of {@code /.well-known/siteward} when the local clock is not trusted
     * (for a trusted local clock it only checks the sample). The time is believed only when the gateway says its
     * clock is trusted, the round trip was within the skew, and it is not behind the recorded time by more than the
     * skew; a time behind the record by less holds at the record (time never moves backwards). Then records it.
     *
     * @throws DeviceException {@code GATEWAY_TIME_UNTRUSTED} when the sample is not believed (nothing changes)
     */
    public void learn(GatewayTimeSample sample) throws DeviceException {
        if (!sample.clockTrusted()) {
            throw new DeviceException(Reason.GATEWAY_TIME_UNTRUSTED, "the gateway says its own clock is not trusted "
                    + "(clockTrusted: false): not taking its time " + sample.time());
        }
        if (sample.roundTrip().compareTo(skew) > 0) {
            throw new DeviceException(Reason.GATEWAY_TIME_UNTRUSTED, "the gateway's time took "
                    + sample.roundTrip().toMillis() + " ms to arrive, more than the allowed skew of " + skew);
        }
        // the gateway stamped its time somewhere within the round trip: take the middle
        Instant gatewayNow = sample.time().plus(sample.roundTrip().dividedBy(2));
        synchronized (lock) {
            if (recorded != null && gatewayNow.isBefore(recorded.minus(skew))) {
                throw new DeviceException(Reason.GATEWAY_TIME_UNTRUSTED, "the gateway's time " + sample.time()
                        + " is behind this device's recorded time " + recorded + " by more than " + skew);
            }
            if (source == Source.LOCAL) {
                return;
            }
            Instant current = anchor.plusNanos(sample.receivedNanos() - anchorNanos);
            Instant taken = gatewayNow;
            if (recorded != null && taken.isBefore(recorded)) {
                taken = recorded;
            }
            if (source == Source.GATEWAY && taken.isBefore(current)) {
                taken = current;
            }
            anchor = taken;
            anchorNanos = sample.receivedNanos();
            source = Source.GATEWAY;
        }
        record();
    }

    /**
     * Writes this clock's time to {@code time.json} when it is later than the recorded one (atomically, 0600).
     * Called after learning the gateway's time and at the end of each command, so a reboot starts from here.
     */
    public void record() throws DeviceException {
        if (!Files.isDirectory(file.getParent())) {
            return;
        }
        synchronized (lock) {
            Instant now = instant();
            if (recorded != null && !now.isAfter(recorded)) {
                return;
            }
            ObjectNode n = JSON.createObjectNode();
            n.put("latest", now.toString());
            n.put("source", source.name().toLowerCase(java.util.Locale.ROOT));
            try {
                SecureFiles.writeAtomically(file, JSON.writeValueAsBytes(n), true);
            } catch (IOException e) {
                throw new DeviceException(Reason.STORAGE, "cannot record the device time in " + file + ": "
                        + e.getMessage(), e);
            }
            recorded = now;
        }
    }

    private static Instant readRecorded(Path file) throws DeviceException {
        try {
            JsonNode n = JSON.readTree(Files.readAllBytes(file));
            return Instant.parse(n.path("latest").asText());
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | DateTimeException e) {
            throw new DeviceException(Reason.STORAGE, file + " is unreadable (" + e.getMessage()
                    + "); remove it to start from the gateway's time", e);
        }
    }

    /** The SDK's build time from its jar manifest ({@code Build-Time}), else {@link #FALLBACK_BUILD_TIME}. */
    public static Instant sdkBuildTime() {
        try {
            URL self = DeviceClock.class.getResource("DeviceClock.class");
            if (self != null && "jar".equals(self.getProtocol())) {
                String s = self.toString();
                URL manifest = new URL(s.substring(0, s.indexOf("!/") + 2) + "META-INF/MANIFEST.MF");
                try (InputStream in = manifest.openStream()) {
                    String t = new Manifest(in).getMainAttributes().getValue("Build-Time");
                    if (t != null) {
                        return Instant.parse(t);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through: an unreadable manifest means the fallback floor
        }
        return FALLBACK_BUILD_TIME;
    }

    @Override
    public String toString() {
        return "DeviceClock[" + source() + ", " + instant() + "]";
    }
}
