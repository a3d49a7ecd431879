package dev.siteward.gateway.rollout;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonValue;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** One rollout as stored: what it ships, to whom, how far it got and why it stopped. */
public record Rollout(long seq, String id, String name, String model, String channel, long version,
                      Long previousVersion, List<String> classes, List<Stage> stages, Duration soak,
                      double maxFailure, boolean autoRollback, State state, int currentStage, Instant stageStartedAt,
                      String haltReason, String createdBy, Instant createdAt, Instant updatedAt) {

    /** Where a rollout stands. Running, paused and halted rollouts are active: one per model and channel. */
    public enum State {
        RUNNING, PAUSED, HALTED, COMPLETED, ABORTED, ROLLED_BACK;

        @JsonValue
        public String dbName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static State fromDb(String s) {
            return valueOf(s.toUpperCase(Locale.ROOT));
        }

        public boolean active() {
            return this == RUNNING || this == PAUSED || this == HALTED;
        }
    }

    static final String COLUMNS = "seq, id, name, model_name, channel, version, previous_version, classes, stages, "
            + "soak_seconds, max_failure, auto_rollback, state, current_stage, stage_started_at, halt_reason, "
            + "created_by, created_at, updated_at";

    static Rollout read(ResultSet rs) throws SQLException {
        long prev = rs.getLong("previous_version");
        Long previous = rs.wasNull() ? null : prev;
        String classes = rs.getString("classes");
        return new Rollout(rs.getLong("seq"), rs.getString("id"), rs.getString("name"), rs.getString("model_name"),
                rs.getString("channel"), rs.getLong("version"), previous,
                classes.isEmpty() ? List.of() : List.of(classes.split(",")), Stage.parseList(rs.getString("stages")),
                Duration.ofSeconds(rs.getLong("soak_seconds")), rs.getDouble("max_failure"),
                rs.getBoolean("auto_rollback"), State.fromDb(rs.getString("state")), rs.getInt("current_stage"),
                rs.getTimestamp("stage_started_at").toInstant(), rs.getString("halt_reason"),
                rs.getString("created_by"), rs.getTimestamp("created_at").toInstant(),
                rs.getTimestamp("updated_at").toInstant());
    }

    /** Whether a device with these labels is targeted at all: on the rollout's channel and one of its classes. */
    public boolean targets(Map<String, String> labels) {
        if (!channel.equals(labels.getOrDefault("channel", "stable"))) {
            return false;
        }
        return classes.isEmpty() || classes.contains(labels.get("class"));
    }

    /**
     * The first stage (index) a targeted device belongs to, or -1 when it is in none. Percentages are cumulative by
     * construction (a device at place p is in every stage above p).
     */
    public int firstStage(String deviceId, Map<String, String> labels) {
        double position = Cohort.position(id, deviceId);
        for (int i = 0; i < stages.size(); i++) {
            if (stages.get(i).includes(position, labels)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Whether this rollout has given (or gave, for a rolled-back one) its version to the device: targeted and in a
     * stage up to the current one.
     */
    public boolean reached(String deviceId, Map<String, String> labels) {
        if (!targets(labels)) {
            return false;
        }
        int first = firstStage(deviceId, labels);
        return first >= 0 && first <= currentStage;
    }

    @JsonIgnore
    public Stage stage() {
        return stages.get(currentStage);
    }
}
