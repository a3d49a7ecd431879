package dev.siteward.gateway.time;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trusted time: validity checks, token expiry and retention all read the clock, so the gateway refuses to act on a
 * clock that went backwards past the latest time it recorded. The latest time is kept in the data dir
 * ({@link TimeRecord}), written periodically ({@link #tick}) and at shutdown ({@link #close}); it only ever moves
 * forward. At start a clock earlier than it by more than the tolerance refuses start-up; while running, a clock
 * that falls behind marks time untrusted and the gateway refuses to act until the clock is right again or an
 * operator confirms it ({@link #accept}). A forward jump (wall clock ahead of the monotonic clock by more than the
 * tolerance) is logged as a warning and remembered until confirmed, so anything that deletes by age can ask
 * {@link #unconfirmedForwardJump()} first.
 */
public final class TimeGuard implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TimeGuard.class);

    /** A clock this much earlier than the latest recorded time is tolerated (NTP corrections, slews). */
    public static final Duration DEFAULT_TOLERANCE = Duration.ofMinutes(5);

    /** What the guard knows, for {@code /.well-known/siteward}, {@code siteward time show} and status. */
    public record Status(Instant time, Instant lastRecorded, boolean trusted, Instant forwardJumpAt,
                         Duration forwardJump, Instant acceptedAt, String acceptedBy, String tolerance) {
    }

    private final Path dataDir;
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final Duration tolerance;
    private TimeRecord record;
    private boolean trusted = true;
    private Instant lastWall;
    private long lastNanos;
    private Instant forwardJumpAt;
    private Duration forwardJump;

    /**
     * Opens the guard on the data dir and checks the clock against the recorded time.
     *
     * @param nanoTime the monotonic clock ({@code System::nanoTime}; tests pass their own)
     * @throws GatewayException {@code gateway.clock_untrusted} when the clock is behind the recorded time by more
     *                          than the tolerance
     */
    public static TimeGuard open(Path dataDir, Clock clock, LongSupplier nanoTime, Duration tolerance)
            throws GatewayException, IOException {
        TimeRecord record = TimeRecord.read(dataDir);
        Instant now = clock.instant();
        if (record != null) {
            checkNotBehind(record, now, tolerance);
        }
        if (record == null) {
            record = new TimeRecord(now, null, null, null);
            record.write(dataDir);
        }
        TimeGuard guard = new TimeGuard(dataDir, clock, nanoTime, tolerance, record);
        guard.tick();
        return guard;
    }

    private TimeGuard(Path dataDir, Clock clock, LongSupplier nanoTime, Duration tolerance, TimeRecord record) {
        this.dataDir = dataDir;
        this.clock = clock;
        this.nanoTime = nanoTime;
        this.tolerance = tolerance;
        this.record = record;
    }

    /** Refuses a clock behind the record by more than the tolerance; the message says how to proceed. */
    public static void checkNotBehind(TimeRecord record, Instant now, Duration tolerance) throws GatewayException {
        if (now.isBefore(record.latest().minus(tolerance))) {
            throw new GatewayException(Reason.CLOCK_UNTRUSTED, "the clock (" + now + ") is "
                    + human(Duration.between(now, record.latest())) + " earlier than the latest time this gateway "
                    + "recorded (" + record.latest() + "): fix the clock, or if it is right confirm it with "
                    + "'siteward time accept'");
        }
    }

    /**
     * Records the time and watches for jumps; runs periodically. Backwards past the record: untrusted (and nothing is
     * recorded). Forward jump: a warning, remembered until confirmed. Back at or after the record: trusted again.
     */
    public synchronized void tick() throws IOException {
        Instant now = clock.instant();
        long nanos = nanoTime.getAsLong();
        if (lastWall != null) {
            Duration wall = Duration.between(lastWall, now);
            Duration mono = Duration.ofNanos(nanos - lastNanos);
            Duration jump = wall.minus(mono);
            if (jump.compareTo(tolerance) > 0) {
                forwardJumpAt = now;
                forwardJump = jump;
                LOG.warn("the clock jumped forward by {} (to {}); nothing is deleted by age until an operator "
                        + "confirms the time with 'siteward time accept'", human(jump), now);
            }
        }
        lastWall = now;
        lastNanos = nanos;
        if (now.isBefore(record.latest().minus(tolerance))) {
            if (trusted) {
                LOG.error("the clock ({}) went back {} before the latest recorded time ({}): the gateway refuses to "
                        + "act until the clock is right or an operator runs 'siteward time accept'", now,
                        human(Duration.between(now, record.latest())), record.latest());
            }
            trusted = false;
            return;
        }
        if (!trusted) {
            LOG.info("the clock ({}) is back past the latest recorded time; acting again", now);
        }
        trusted = true;
        if (now.isAfter(record.latest())) {
            record = record.withLatest(now);
            record.write(dataDir);
        }
    }

    /**
     * An operator confirms the clock is right: the recorded time becomes now (even if earlier), time is trusted
     * again, and a forward jump counts as confirmed.
     */
    public synchronized Status accept(String by) throws IOException {
        Instant now = clock.instant();
        record = new TimeRecord(now, now, record.latest(), by);
        record.write(dataDir);
        trusted = true;
        forwardJumpAt = null;
        forwardJump = null;
        lastWall = now;
        lastNanos = nanoTime.getAsLong();
        LOG.warn("{} confirmed the clock ({}); the previously recorded time was {}", by, now,
                record.acceptedFrom());
        return status();
    }

    /** Confirms the clock in a data dir no gateway holds ({@code siteward time accept} with the gateway stopped). */
    public static TimeRecord acceptOffline(Path dataDir, Clock clock, String by) throws IOException {
        TimeRecord old = null;
        try {
            old = TimeRecord.read(dataDir);
        } catch (IOException unreadable) {
            // an unreadable record is replaced by the confirmed time
        }
        Instant now = clock.instant();
        TimeRecord r = new TimeRecord(now, now, old == null ? null : old.latest(), by);
        r.write(dataDir);
        return r;
    }

    /**
     * What may still be asked while time is untrusted: health, site discovery (which shows the clock), admin reads
     * (to diagnose) and the time routes (to confirm the clock). Everything else is refused.
     */
    public static boolean allowedWhileUntrusted(String method, String path) {
        return path.equals("/health") || path.equals("/.well-known/siteward") || path.startsWith("/v1/admin/time")
                || (path.startsWith("/v1/admin/") && (method.equals("GET") || method.equals("HEAD")));
    }

    /** Fails with {@code gateway.clock_untrusted} while time is untrusted. */
    public synchronized void requireTrusted() throws GatewayException {
        if (!trusted) {
            throw new GatewayException(Reason.CLOCK_UNTRUSTED, "the gateway's clock (" + clock.instant()
                    + ") is earlier than the latest time it recorded (" + record.latest() + "); it refuses to act "
                    + "until the clock is right or an operator runs 'siteward time accept'");
        }
    }

    public synchronized boolean trusted() {
        return trusted;
    }

    /** When the clock last jumped forward without an operator confirming it, if it did. */
    public synchronized java.util.Optional<Instant> unconfirmedForwardJump() {
        return java.util.Optional.ofNullable(forwardJumpAt);
    }

    public synchronized Status status() {
        return new Status(clock.instant(), record.latest(), trusted, forwardJumpAt, forwardJump, record.acceptedAt(),
                record.acceptedBy(), human(tolerance));
    }

    /** Records the time a last time (the shutdown record). */
    @Override
    public void close() {
        try {
            tick();
        } catch (IOException e) {
            LOG.warn("cannot record the time at shutdown: {}", e.toString());
        }
    }

    static String human(Duration d) {
        long s = d.abs().getSeconds();
        if (s >= 86400) {
            return s / 86400 + "d" + (s % 86400 / 3600 > 0 ? " " + s % 86400 / 3600 + "h" : "");
        }
        if (s >= 3600) {
            return s / 3600 + "h" + (s % 3600 / 60 > 0 ? " " + s % 3600 / 60 + "m" : "");
        }
        return s >= 60 ? s / 60 + "m" : s + "s";
    }
}
