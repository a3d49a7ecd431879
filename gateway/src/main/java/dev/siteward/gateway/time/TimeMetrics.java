package dev.siteward.gateway.time;

import dev.siteward.gateway.metrics.MetricFamilies;
import java.util.Locale;

/**
 * Trusted time on the management listener's {@code /prometheus}:
 * <ul>
 *   <li>{@code siteward_clock_trusted} — 1 while the clock is at or past the recorded time (within the tolerance),
 *       0 while the gateway refuses to act on it (503 {@code gateway.clock_untrusted});</li>
 *   <li>{@code siteward_clock_forward_jump_unconfirmed} — 1 after a forward jump that no operator confirmed
 *       ({@code siteward time accept}); nothing is purged by age meanwhile;</li>
 *   <li>{@code siteward_clock_last_recorded_timestamp_seconds} — the latest time recorded in
 *       {@code gateway/time.json}.</li>
 * </ul>
 * Read from the guard's state at each scrape (no I/O).
 */
public final class TimeMetrics implements MetricFamilies {

    private final TimeGuard guard;

    public TimeMetrics(TimeGuard guard) {
        this.guard = guard;
    }

    @Override
    public int order() {
        return 30;
    }

    @Override
    public String prometheus() {
        TimeGuard.Status s = guard.status();
        StringBuilder b = new StringBuilder();
        b.append("# HELP siteward_clock_trusted 1 while the clock is not behind the recorded time, else 0 (the gateway "
                + "refuses to act).\n");
        b.append("# TYPE siteward_clock_trusted gauge\n");
        b.append("siteward_clock_trusted ").append(s.trusted() ? 1 : 0).append('\n');
        b.append("# HELP siteward_clock_forward_jump_unconfirmed 1 after a forward clock jump no operator confirmed "
                + "(nothing is purged by age until then).\n");
        b.append("# TYPE siteward_clock_forward_jump_unconfirmed gauge\n");
        b.append("siteward_clock_forward_jump_unconfirmed ").append(s.forwardJumpAt() == null ? 0 : 1).append('\n');
        b.append("# HELP siteward_clock_last_recorded_timestamp_seconds The latest time the gateway recorded.\n");
        b.append("# TYPE siteward_clock_last_recorded_timestamp_seconds gauge\n");
        b.append("siteward_clock_last_recorded_timestamp_seconds ").append(String.format(Locale.ROOT, "%.3f",
                s.lastRecorded().toEpochMilli() / 1000.0)).append('\n');
        return b.toString();
    }
}
