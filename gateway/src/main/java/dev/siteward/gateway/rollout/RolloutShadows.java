package dev.siteward.gateway.rollout;

import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Shadow mode of rollouts (table {@code rollout_shadows}): which candidates run beside the active release now, and
 * what comparing them found. A shadow is live while its rollout is active (running, paused or halted) and its
 * window has not ended; completing (promoting), aborting or rolling back the rollout ends it.
 */
public final class RolloutShadows {

    /** Agreement tolerance when none is given: decision scores may differ by at most 0.1 (absolute). */
    public static final double DEFAULT_TOLERANCE = 0.1;
    /** Shadow window when none is given. */
    public static final Duration DEFAULT_WINDOW = Duration.ofHours(1);
    /** The longest shadow window. */
    public static final Duration MAX_WINDOW = Duration.ofDays(30);

    /** A candidate running beside the active release of its rollout's devices. */
    public record Live(Rollout rollout, long version, double tolerance, Instant until) {
    }

    /** What one gateway compared since its last flush. */
    public record Delta(long compared, long agreed, long decisionsEqual, long shadowErrors, long shed,
                        long[] activeLatency, long[] shadowLatency) {
        public boolean empty() {
            return compared == 0 && shadowErrors == 0 && shed == 0;
        }
    }

    /** Latency percentiles in milliseconds ({@code null} before any comparison). */
    public record Latency(Double p50, Double p99) {
        static Latency of(long[] counts) {
            return new Latency(ShadowLatency.quantile(counts, 0.50), ShadowLatency.quantile(counts, 0.99));
        }
    }

    /** The shadow part of a rollout's status. */
    public record Status(long version, boolean live, Instant until, double tolerance, long compared, long agreed,
                         Double agreementRate, long decisionsEqual, Double decisionAgreementRate, long shadowErrors,
                         long shed, Latency activeLatencyMs, Latency shadowLatencyMs, Instant updatedAt) {
    }

    private final GatewayStore store;
    private final Clock clock;

    public RolloutShadows(GatewayStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /** Records a new rollout's shadow, in the transaction that inserts the rollout. */
    static void create(Connection c, Rollout r, Instant until, double tolerance) throws SQLException {
        String empty = ShadowLatency.format(new long[ShadowLatency.BUCKETS]);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO rollout_shadows (rollout_id, model_name, version, "
                + "shadow_until, tolerance, compared, agreed, decisions_equal, shadow_errors, shed, active_latency, "
                + "shadow_latency, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0, 0, ?, ?, ?)")) {
            ps.setString(1, r.id());
            ps.setString(2, r.model());
            ps.setLong(3, r.version());
            ps.setTimestamp(4, Timestamp.from(until));
            ps.setDouble(5, tolerance);
            ps.setString(6, empty);
            ps.setString(7, empty);
            ps.setTimestamp(8, Timestamp.from(r.createdAt()));
            ps.executeUpdate();
        }
    }

    /** The shadows live at the current time. */
    public List<Live> live() throws StoreException {
        Instant now = clock.instant();
        return store.inTransaction(c -> {
            List<Live> out = new ArrayList<>();
            List<Object[]> rows = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT s.rollout_id, s.version, s.tolerance, "
                    + "s.shadow_until FROM rollout_shadows s JOIN rollouts r ON r.id = s.rollout_id "
                    + "WHERE r.state IN ('running', 'paused', 'halted') AND s.shadow_until > ?")) {
                ps.setTimestamp(1, Timestamp.from(now));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(new Object[] {rs.getString(1), rs.getLong(2), rs.getDouble(3),
                                rs.getTimestamp(4).toInstant()});
                    }
                }
            }
            for (Object[] row : rows) {
                Rollout ro = RolloutService.find(c, (String) row[0]);
                if (ro != null) {
                    out.add(new Live(ro, (Long) row[1], (Double) row[2], (Instant) row[3]));
                }
            }
            return out;
        });
    }

    /** Adds what a gateway compared to the rollout's totals (one transaction; the row is locked meanwhile). */
    public void add(String rolloutId, Delta d) throws StoreException {
        if (d.empty()) {
            return;
        }
        Instant now = clock.instant();
        store.inTransaction(c -> {
            long[] active;
            long[] shadow;
            try (PreparedStatement ps = c.prepareStatement("SELECT active_latency, shadow_latency FROM "
                    + "rollout_shadows WHERE rollout_id = ? FOR UPDATE")) {
                ps.setString(1, rolloutId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return null;
                    }
                    active = ShadowLatency.parse(rs.getString(1));
                    shadow = ShadowLatency.parse(rs.getString(2));
                }
            }
            for (int i = 0; i < ShadowLatency.BUCKETS; i++) {
                active[i] += d.activeLatency()[i];
                shadow[i] += d.shadowLatency()[i];
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE rollout_shadows SET compared = compared + ?, "
                    + "agreed = agreed + ?, decisions_equal = decisions_equal + ?, shadow_errors = shadow_errors + ?, "
                    + "shed = shed + ?, active_latency = ?, shadow_latency = ?, updated_at = ? WHERE rollout_id = ?")) {
                ps.setLong(1, d.compared());
                ps.setLong(2, d.agreed());
                ps.setLong(3, d.decisionsEqual());
                ps.setLong(4, d.shadowErrors());
                ps.setLong(5, d.shed());
                ps.setString(6, ShadowLatency.format(active));
                ps.setString(7, ShadowLatency.format(shadow));
                ps.setTimestamp(8, Timestamp.from(now));
                ps.setString(9, rolloutId);
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** The rollout's shadow status, or {@code null} when it was started without one. */
    static Status status(Connection c, Rollout ro, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT version, shadow_until, tolerance, compared, agreed, "
                + "decisions_equal, shadow_errors, shed, active_latency, shadow_latency, updated_at FROM "
                + "rollout_shadows WHERE rollout_id = ?")) {
            ps.setString(1, ro.id());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                Instant until = rs.getTimestamp(2).toInstant();
                long compared = rs.getLong(4);
                long agreed = rs.getLong(5);
                long equal = rs.getLong(6);
                return new Status(rs.getLong(1), ro.state().active() && now.isBefore(until), until,
                        rs.getDouble(3), compared, agreed, rate(agreed, compared), equal, rate(equal, compared),
                        rs.getLong(7), rs.getLong(8), Latency.of(ShadowLatency.parse(rs.getString(9))),
                        Latency.of(ShadowLatency.parse(rs.getString(10))), rs.getTimestamp(11).toInstant());
            }
        }
    }

    private static Double rate(long part, long whole) {
        return whole == 0 ? null : Math.round(1e6 * part / whole) / 1e6;
    }
}
