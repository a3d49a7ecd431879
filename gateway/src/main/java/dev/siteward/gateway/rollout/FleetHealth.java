package dev.siteward.gateway.rollout;

import dev.siteward.gateway.models.ModelException;
import dev.siteward.gateway.models.ModelException.Kind;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.modelsig.ModelNames;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Device heartbeats (docs/model-releases.md, {@code POST /v1/devices/heartbeat}): each device's latest health
 * figures and the models it runs, which rollouts count and {@code siteward device list} shows. A heartbeat sent
 * earlier than the stored one (a queued report delivered late) is kept out of the current state; a device whose
 * latest heartbeat is older than {@code staleAfter} is stale.
 */
public final class FleetHealth {

    /** The models a device runs, by name. */
    public record RunningModel(String name, long version) {
    }

    /** Latency percentiles in milliseconds (any may be null). */
    public record Latency(Double p50, Double p95, Double p99) {
    }

    /** One heartbeat as the device sends it. */
    public record Heartbeat(Instant sentAt, long uptimeSeconds, long inferences, long inferenceErrors,
                            Latency latencyMs, List<RunningModel> models) {
    }

    /** A device's health as stored, with whether it is stale now. */
    public record DeviceHealth(String deviceId, Instant lastHeartbeat, Instant receivedAt, long uptimeSeconds,
                               long inferences, long inferenceErrors, Latency latencyMs,
                               Map<String, Long> models, boolean stale, String health) {
    }

    private static final Duration MAX_FUTURE = Duration.ofMinutes(5);
    private static final Duration MAX_AGE = Duration.ofDays(30);

    private final GatewayStore store;
    private final Clock clock;
    private final HealthCriteria criteria;

    public FleetHealth(GatewayStore store, Clock clock, HealthCriteria criteria) {
        this.store = store;
        this.clock = clock;
        this.criteria = criteria;
    }

    /**
     * Stores a heartbeat of {@code deviceId}. Returns false when a newer heartbeat is already stored (a late queued
     * one: accepted, but it changes nothing).
     */
    public boolean record(String deviceId, Heartbeat h) throws ModelException, StoreException {
        Instant now = clock.instant();
        validate(h, now);
        Instant sent = h.sentAt().isAfter(now) ? now : h.sentAt();
        return store.inTransaction(c -> {
            Instant stored = null;
            try (PreparedStatement ps = c.prepareStatement("SELECT sent_at FROM device_health WHERE device_id = ?")) {
                ps.setString(1, deviceId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        stored = rs.getTimestamp(1).toInstant();
                    }
                }
            }
            if (stored != null && stored.isAfter(sent)) {
                return false;
            }
            exec(c, "DELETE FROM device_health WHERE device_id = ?", deviceId);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO device_health (device_id, sent_at, "
                    + "received_at, uptime_seconds, inferences, inference_errors, latency_p50_ms, latency_p95_ms, "
                    + "latency_p99_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, deviceId);
                ps.setTimestamp(2, Timestamp.from(sent));
                ps.setTimestamp(3, Timestamp.from(now));
                ps.setLong(4, h.uptimeSeconds());
                ps.setLong(5, h.inferences());
                ps.setLong(6, h.inferenceErrors());
                Latency l = h.latencyMs() == null ? new Latency(null, null, null) : h.latencyMs();
                setDouble(ps, 7, l.p50());
                setDouble(ps, 8, l.p95());
                setDouble(ps, 9, l.p99());
                ps.executeUpdate();
            }
            exec(c, "DELETE FROM device_models WHERE device_id = ?", deviceId);
            for (RunningModel m : h.models()) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO device_models (device_id, model_name, "
                        + "version, reported_at) VALUES (?, ?, ?, ?)")) {
                    ps.setString(1, deviceId);
                    ps.setString(2, m.name());
                    ps.setLong(3, m.version());
                    ps.setTimestamp(4, Timestamp.from(sent));
                    ps.executeUpdate();
                }
            }
            return true;
        });
    }

    /** Every device's stored health, by device id. */
    public Map<String, DeviceHealth> all() throws StoreException {
        Instant now = clock.instant();
        return store.inTransaction(c -> {
            Map<String, Map<String, Long>> models = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT device_id, model_name, version FROM device_models");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    models.computeIfAbsent(rs.getString(1), k -> new TreeMap<>()).put(rs.getString(2), rs.getLong(3));
                }
            }
            Map<String, DeviceHealth> out = new TreeMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT device_id, sent_at, received_at, uptime_seconds, "
                    + "inferences, inference_errors, latency_p50_ms, latency_p95_ms, latency_p99_ms FROM device_health");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String id = rs.getString(1);
                    Instant received = rs.getTimestamp(3).toInstant();
                    Latency l = new Latency(getDouble(rs, 7), getDouble(rs, 8), getDouble(rs, 9));
                    long inf = rs.getLong(5);
                    long err = rs.getLong(6);
                    boolean stale = received.isBefore(now.minus(criteria.staleAfter()));
                    String why = criteria.unhealthy(inf, err, l.p95());
                    out.put(id, new DeviceHealth(id, rs.getTimestamp(2).toInstant(), received, rs.getLong(4), inf,
                            err, l, models.getOrDefault(id, Map.of()), stale,
                            stale ? "stale" : why == null ? "healthy" : "unhealthy: " + why));
                }
            }
            return out;
        });
    }

    private static void validate(Heartbeat h, Instant now) throws ModelException {
        if (h == null || h.sentAt() == null) {
            throw bad("sentAt is required (ISO-8601 instant)");
        }
        if (h.sentAt().isAfter(now.plus(MAX_FUTURE)) || h.sentAt().isBefore(now.minus(MAX_AGE))) {
            throw bad("sentAt " + h.sentAt() + " is more than 5 minutes ahead or 30 days behind the gateway's clock");
        }
        if (h.uptimeSeconds() < 0 || h.inferences() < 0 || h.inferenceErrors() < 0) {
            throw bad("uptimeSeconds, inferences and inferenceErrors must not be negative");
        }
        if (h.inferenceErrors() > h.inferences()) {
            throw bad("inferenceErrors cannot exceed inferences");
        }
        if (h.latencyMs() != null) {
            for (Double d : new Double[] {h.latencyMs().p50(), h.latencyMs().p95(), h.latencyMs().p99()}) {
                if (d != null && !(d >= 0 && d < 3.6e6)) {
                    throw bad("latency percentiles must be milliseconds between 0 and one hour");
                }
            }
        }
        if (h.models() == null || h.models().size() > 64) {
            throw bad("models must be a list of at most 64 {name, version}");
        }
        Set<String> seen = new HashSet<>();
        for (RunningModel m : h.models()) {
            if (m == null || m.name() == null || !ModelNames.isValid(m.name()) || m.version() < 0) {
                throw bad("each model needs a model name and a non-negative version");
            }
            if (!seen.add(m.name())) {
                throw bad("model " + m.name() + " is listed twice");
            }
        }
    }

    private static ModelException bad(String message) {
        return new ModelException(Kind.BAD_INPUT, "heartbeat.invalid", message);
    }

    private static void exec(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            ps.executeUpdate();
        }
    }

    private static void setDouble(PreparedStatement ps, int i, Double d) throws SQLException {
        if (d == null) {
            ps.setNull(i, Types.DOUBLE);
        } else {
            ps.setDouble(i, d);
        }
    }

    private static Double getDouble(ResultSet rs, int i) throws SQLException {
        double d = rs.getDouble(i);
        return rs.wasNull() ? null : d;
    }

    static List<String> ids(Map<String, DeviceHealth> m) {
        return new ArrayList<>(m.keySet());
    }
}
