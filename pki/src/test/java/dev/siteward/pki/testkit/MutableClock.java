package dev.siteward.pki.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * A {@link Clock} that tests set and move explicitly: it stands still until told otherwise, so a test moves time
 * instead of sleeping for it. Thread-safe; every clock derived with {@link #withZone} shares the same instant.
 */
public final class MutableClock extends Clock {

    /** A fixed, whole-second start instant, so runs are reproducible. */
    public static final Instant DEFAULT_START = Instant.parse("2026-01-15T10:00:00Z");

    private final Holder holder;
    private final ZoneId zone;

    private static final class Holder {
        private volatile Instant now;

        Holder(Instant now) {
            this.now = now;
        }
    }

    private MutableClock(Holder holder, ZoneId zone) {
        this.holder = holder;
        this.zone = zone;
    }

    /** A clock standing at {@code start}, in UTC. */
    public MutableClock(Instant start) {
        this(new Holder(Objects.requireNonNull(start, "start")), ZoneOffset.UTC);
    }

    /** A clock standing at {@link #DEFAULT_START}, in UTC. */
    public static MutableClock atDefaultStart() {
        return new MutableClock(DEFAULT_START);
    }

    /** A clock standing at the current system time truncated to whole seconds, in UTC. */
    public static MutableClock atSystemTime() {
        return new MutableClock(Instant.ofEpochSecond(Instant.now().getEpochSecond()));
    }

    /** Sets the clock to {@code instant}; it may move backwards. */
    public void set(Instant instant) {
        holder.now = Objects.requireNonNull(instant, "instant");
    }

    /** Moves the clock by {@code amount} (negative moves it back) and returns the new instant. */
    public synchronized Instant advance(Duration amount) {
        Instant next = holder.now.plus(amount);
        holder.now = next;
        return next;
    }

    @Override
    public Instant instant() {
        return holder.now;
    }

    @Override
    public ZoneId getZone() {
        return zone;
    }

    /** A view in another zone that shares this clock's instant (moving one moves both). */
    @Override
    public Clock withZone(ZoneId newZone) {
        return new MutableClock(holder, newZone);
    }

    @Override
    public String toString() {
        return "MutableClock[" + holder.now + "]";
    }
}
