package dev.siteward.gateway.rollout;

import dev.siteward.gateway.audit.AuditActor;
import dev.siteward.gateway.audit.AuditEvent;
import dev.siteward.gateway.audit.AuditTrail;
import dev.siteward.gateway.devices.DeviceStatus;
import dev.siteward.gateway.devices.Labels;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Staged rollouts (docs/rollouts.md): starts them, moves them through their stages as devices report (soak time,
 * success criteria), halts them over their failure threshold and rolls them back, and answers their status. Every
 * state change is one database transaction, so a restarted gateway continues exactly where it was; time comes from
 * the injected {@link Clock} and advances only in {@link #tick()}.
 *
 * <p>What a device gets is decided by {@link RolloutTargets} from the stored rollouts: the latest rollout of a model
 * and channel gives its version to the devices of its reached stages; a rolled-back rollout gives them the previous
 * version with {@code rollbackFrom}.
 */
public final class RolloutService {

    /** Failure threshold when none is given: more than 5% of a stage's devices failing halts it. */
    public static final double DEFAULT_MAX_FAILURE = 0.05;
    static final Pattern LABEL = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,127}");

    private final GatewayStore store;
    private final AuditTrail audit;
    private final Clock clock;
    private final HealthCriteria criteria;
    private final WithdrawalCheck withdrawals;

    /** Whether a publisher withdrew a version (a withdrawn version is never rolled out). */
    @FunctionalInterface
    public interface WithdrawalCheck {
        boolean withdrawn(String model, long version) throws StoreException;
    }

    public RolloutService(GatewayStore store, AuditTrail audit, Clock clock, HealthCriteria criteria,
                          WithdrawalCheck withdrawals) {
        this.withdrawals = withdrawals;
        this.store = store;
        this.audit = audit;
        this.clock = clock;
        this.criteria = criteria;
    }

    public HealthCriteria criteria() {
        return criteria;
    }

    /** What an operator asks for with {@code siteward rollout start}. */
    public record StartRequest(String name, String model, long version, String channel, String stages,
                               Duration soak, double maxFailure, boolean autoRollback, Duration shadowFor,
                               Double shadowTolerance) {
        /** A rollout without shadow mode. */
        public StartRequest(String name, String model, long version, String channel, String stages, Duration soak,
                            double maxFailure, boolean autoRollback) {
            this(name, model, version, channel, stages, soak, maxFailure, autoRollback, null, null);
        }
    }

    // ---------------------------------------------------------------- operator actions

    /** Starts a rollout at its first stage; refused while another rollout of the model and channel is active. */
    public synchronized Rollout start(StartRequest r) throws ModelException, StoreException {
        if (r.name() == null || !NAME.matcher(r.name()).matches()) {
            throw bad("rollout name '" + r.name() + "' must match " + NAME.pattern());
        }
        if (r.model() == null || !ModelNames.isValid(r.model())) {
            throw bad("model name '" + r.model() + "' is not valid");
        }
        if (r.version() < 0) {
            throw bad("version must be a non-negative integer");
        }
        if (r.channel() == null || !LABEL.matcher(r.channel()).matches()) {
            throw bad("channel '" + r.channel() + "' must match " + LABEL.pattern());
        }
        List<Stage> stages;
        try {
            stages = Stage.parseList(r.stages());
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        Duration soak = r.soak() == null ? Duration.ZERO : r.soak();
        if (soak.isNegative() || soak.compareTo(Duration.ofDays(30)) > 0) {
            throw bad("soak must be between 0 and 30 days");
        }
        if (!(r.maxFailure() >= 0 && r.maxFailure() <= 1)) {
            throw bad("max failure must be between 0% and 100%");
        }
        if (r.shadowFor() != null && (r.shadowFor().isNegative() || r.shadowFor().isZero()
                || r.shadowFor().compareTo(RolloutShadows.MAX_WINDOW) > 0)) {
            throw bad("the shadow window must be above 0 and at most 30 days");
        }
        if (r.shadowFor() == null && r.shadowTolerance() != null) {
            throw bad("a shadow tolerance needs shadow mode (--shadow)");
        }
        double tolerance = r.shadowTolerance() == null ? RolloutShadows.DEFAULT_TOLERANCE : r.shadowTolerance();
        if (!(tolerance >= 0 && tolerance <= 1)) {
            throw bad("the shadow tolerance must be between 0 and 1");
        }
        if (withdrawals.withdrawn(r.model(), r.version())) {
            throw new ModelException(Kind.REFUSED, "model.withdrawn", r.model() + " version " + r.version()
                    + " is withdrawn");
        }
        Instant now = clock.instant();
        String actor = AuditActor.current();
        Rollout created = store.inTransaction(c -> {
            if (!exists(c, "SELECT 1 FROM model_versions WHERE model_name = ? AND version = ?", r.model(),
                    r.version())) {
                throw new ModelException(Kind.NOT_FOUND, "model.not_found", r.model() + " version " + r.version()
                        + " is not published");
            }
            Optional<Rollout> active = latest(c, r.model(), r.channel()).filter(x -> x.state().active());
            if (active.isPresent()) {
                throw new ModelException(Kind.CONFLICT, "rollout.active", "rollout " + active.get().id() + " of "
                        + r.model() + " on channel " + r.channel() + " is " + active.get().state().dbName()
                        + ": pause, abort or roll it back first");
            }
            Baseline base = baseline(c, r.model(), r.channel());
            if (base != null && r.version() <= base.version()) {
                throw bad("version " + r.version() + " is not above the channel's release (version "
                        + base.version() + "); to go back use 'siteward rollout rollback' or 'siteward model "
                        + "release'");
            }
            Rollout ro = new Rollout(0, UUID.randomUUID().toString(), r.name(), r.model(), r.channel(), r.version(),
                    base == null ? null : base.version(), base == null ? List.of() : base.classes(), stages, soak,
                    r.maxFailure(), r.autoRollback(), Rollout.State.RUNNING, 0, now, null, actor, now, now);
            Rollout inserted = insert(c, ro);
            if (r.shadowFor() != null) {
                RolloutShadows.create(c, inserted, now.plus(r.shadowFor()), tolerance);
            }
            return inserted;
        });
        Map<String, Object> started = new LinkedHashMap<>(Map.of("stages", Stage.format(stages), "soakSeconds",
                soak.toSeconds(), "maxFailure", r.maxFailure(), "autoRollback", r.autoRollback()));
        if (r.shadowFor() != null) {
            started.put("shadowSeconds", r.shadowFor().toSeconds());
            started.put("shadowTolerance", tolerance);
        }
        audit.record(event(created, "start", started));
        return created;
    }

    /** Stops expanding a running rollout; devices keep what they have. */
    public synchronized Rollout pause(String id) throws ModelException, StoreException {
        return change(id, "pause", ro -> {
            if (ro.state() != Rollout.State.RUNNING) {
                throw conflict(ro, "only a running rollout can be paused");
            }
            return with(ro, Rollout.State.PAUSED, ro.currentStage(), ro.stageStartedAt(), ro.haltReason());
        });
    }

    /**
     * Continues a paused or halted rollout at its current stage; a halted one starts its stage's soak again and is
     * judged again at the next tick.
     */
    public synchronized Rollout resume(String id) throws ModelException, StoreException {
        return change(id, "resume", ro -> {
            if (ro.state() == Rollout.State.PAUSED) {
                return with(ro, Rollout.State.RUNNING, ro.currentStage(), ro.stageStartedAt(), null);
            }
            if (ro.state() == Rollout.State.HALTED) {
                return with(ro, Rollout.State.RUNNING, ro.currentStage(), clock.instant(), null);
            }
            throw conflict(ro, "only a paused or halted rollout can be resumed");
        });
    }

    /** Stops the rollout for good, leaving every device where it is. */
    public synchronized Rollout abort(String id) throws ModelException, StoreException {
        return change(id, "abort", ro -> {
            if (!ro.state().active()) {
                throw conflict(ro, "only a running, paused or halted rollout can be aborted");
            }
            return with(ro, Rollout.State.ABORTED, ro.currentStage(), ro.stageStartedAt(), ro.haltReason());
        });
    }

    /**
     * Returns every device the rollout reached to the previous release: new release metadata (a higher metadata
     * version) lists the previous version with {@code rollbackFrom} = this rollout's version. Refused for a rollout
     * that replaced nothing, or that a later rollout of the same model and channel superseded.
     */
    public synchronized Rollout rollback(String id) throws ModelException, StoreException {
        Rollout r = store.inTransaction(c -> rollback(c, load(c, id), "operator rollback"));
        audit.record(event(r, "rollback", Map.of("reason", "operator", "to", r.previousVersion())));
        return r;
    }

    private Rollout rollback(Connection c, Rollout ro, String reason) throws SQLException, ModelException {
        if (ro.state() == Rollout.State.ROLLED_BACK) {
            throw conflict(ro, "the rollout is already rolled back");
        }
        if (ro.previousVersion() == null) {
            throw conflict(ro, "there is no previous release of " + ro.model() + " on channel " + ro.channel()
                    + " to return to; abort the rollout instead");
        }
        Rollout latest = latest(c, ro.model(), ro.channel()).orElseThrow();
        if (latest.seq() != ro.seq()) {
            throw conflict(ro, "rollout " + latest.id() + " came later on the same model and channel");
        }
        Baseline base = baseline(c, ro.model(), ro.channel());
        if (base != null && base.version() == ro.version()) {
            // the rollout completed and became the channel's release: point the release back
            setRelease(c, ro.model(), ro.channel(), ro.previousVersion(), ro.classes(),
                    Math.max(ro.version(), base.rollbackFrom() == null ? ro.version() : base.rollbackFrom()),
                    clock.instant());
        }
        String why = ro.haltReason() == null ? reason : ro.haltReason() + "; " + reason;
        Rollout r = with(ro, Rollout.State.ROLLED_BACK, ro.currentStage(), ro.stageStartedAt(), why);
        update(c, r);
        return r;
    }

    // ---------------------------------------------------------------- the engine

    /** One state change made by {@link #tick()}. */
    public record Transition(String rolloutId, String action, int stage, String detail) {
    }

    /**
     * Judges every running rollout at the current time: halts (and, when configured, rolls back) one whose current
     * stage has more failures than allowed, moves one whose stage soaked long enough and met its success criteria to
     * the next stage, and completes one that did so at its last stage (a last stage of 100% becomes the channel's
     * release).
     */
    public synchronized List<Transition> tick() throws StoreException {
        List<Rollout> running = store.inTransaction(c -> query(c, "WHERE state = ? ORDER BY seq",
                Rollout.State.RUNNING.dbName()));
        List<Transition> out = new ArrayList<>();
        for (Rollout ro : running) {
            Transition t = store.inTransaction(c -> judge(c, ro.id()));
            if (t != null) {
                out.add(t);
                Rollout after = store.inTransaction(c -> load(c, ro.id()));
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("stage", ro.stages().get(t.stage()).text());
                details.put("detail", t.detail());
                audit.record(event(after, t.action(), details));
            }
        }
        return out;
    }

    private Transition judge(Connection c, String id) throws SQLException {
        Rollout ro = load(c, id);
        if (ro == null || ro.state() != Rollout.State.RUNNING) {
            return null;
        }
        Instant now = clock.instant();
        Fleet fleet = fleet(c, ro, now);
        StageStats s = fleet.stats(ro.currentStage());
        if (s.targeted() > 0 && s.failed() > ro.maxFailure() * s.targeted()) {
            String reason = String.format(Locale.ROOT, "stage %s: %d of %d devices failed (%.1f%%, more than "
                    + "%s allowed): %s", ro.stage().text(), s.failed(), s.targeted(), 100.0 * s.failed() / s.targeted(),
                    percent(ro.maxFailure()), String.join("; ", s.failures()));
            Rollout halted = with(ro, Rollout.State.HALTED, ro.currentStage(), ro.stageStartedAt(), reason);
            update(c, halted);
            if (ro.autoRollback() && ro.previousVersion() != null) {
                try {
                    rollback(c, halted, "rolled back automatically");
                    return new Transition(id, "auto_rollback", ro.currentStage(), reason);
                } catch (ModelException e) {
                    return new Transition(id, "halt", ro.currentStage(), reason + " (no automatic rollback: "
                            + e.getMessage() + ")");
                }
            }
            return new Transition(id, "halt", ro.currentStage(), reason);
        }
        if (now.isBefore(ro.stageStartedAt().plus(ro.soak()))) {
            return null;
        }
        if (!s.successful(criteria.minHealthy())) {
            return null;
        }
        String detail = String.format(Locale.ROOT, "%d targeted, %d healthy, %d failed, %d offline", s.targeted(),
                s.healthy(), s.failed(), s.offline());
        if (ro.currentStage() + 1 < ro.stages().size()) {
            update(c, with(ro, Rollout.State.RUNNING, ro.currentStage() + 1, now, null));
            return new Transition(id, "stage", ro.currentStage() + 1, detail);
        }
        update(c, with(ro, Rollout.State.COMPLETED, ro.currentStage(), ro.stageStartedAt(), null));
        if (ro.stage().isFull()) {
            setRelease(c, ro.model(), ro.channel(), ro.version(), ro.classes(), null, now);
        }
        return new Transition(id, "complete", ro.currentStage(), detail);
    }

    // ---------------------------------------------------------------- status

    /** Counts for one stage, cumulative: a stage's devices include those of the stages before it. */
    public record StageStats(String stage, boolean reached, int targeted, int downloaded, int installed, int healthy,
                             int failed, int offline, List<String> failures) {

        boolean successful(double minHealthy) {
            if (targeted == 0) {
                return true;
            }
            int online = targeted - offline;
            return healthy >= 1 && healthy >= Math.ceil(minHealthy * online - 1e-9);
        }
    }

    /** A rollout with its per-stage counts, and its shadow comparison ({@code null} without shadow mode). */
    public record RolloutStatus(Rollout rollout, List<StageStats> stages, RolloutShadows.Status shadow) {
        public RolloutStatus(Rollout rollout, List<StageStats> stages) {
            this(rollout, stages, null);
        }
    }

    public Rollout get(String id) throws ModelException, StoreException {
        Rollout r = store.inTransaction(c -> load(c, id));
        if (r == null) {
            throw new ModelException(Kind.NOT_FOUND, "rollout.not_found", "no rollout '" + id + "'");
        }
        return r;
    }

    public RolloutStatus status(String id) throws ModelException, StoreException {
        get(id);
        return store.inTransaction(c -> {
            Rollout ro = load(c, id);
            Fleet f = fleet(c, ro, clock.instant());
            List<StageStats> stats = new ArrayList<>();
            for (int i = 0; i < ro.stages().size(); i++) {
                stats.add(f.stats(i));
            }
            return new RolloutStatus(ro, stats, RolloutShadows.status(c, ro, clock.instant()));
        });
    }

    /** Every rollout, newest first (at most {@code limit}). */
    public List<Rollout> list(int limit) throws StoreException {
        return store.inTransaction(c -> {
            List<Rollout> all = query(c, "ORDER BY seq DESC");
            return all.size() > limit ? all.subList(0, limit) : all;
        });
    }

    // ---------------------------------------------------------------- model release as a rollout

    /**
     * Called by {@code model release} inside its transaction, before it changes the channel: refuses while a rollout
     * of the model and channel is active.
     */
    public static void checkNoActiveRollout(Connection c, String model, String channel)
            throws SQLException, ModelException {
        Optional<Rollout> active = latest(c, model, channel).filter(x -> x.state().active());
        if (active.isPresent()) {
            throw new ModelException(Kind.CONFLICT, "rollout.active", "rollout " + active.get().id() + " of " + model
                    + " on channel " + channel + " is " + active.get().state().dbName() + ": abort or roll it back "
                    + "before releasing");
        }
    }

    /**
     * Records a {@code model release} as a completed rollout with one 100% stage, in the release's transaction; it
     * becomes the latest rollout of the model and channel. Returns its id.
     */
    public static String recordRelease(Connection c, String model, String channel, long version, Long previous,
                                       List<String> classes, Instant now) throws SQLException {
        Rollout ro = new Rollout(0, UUID.randomUUID().toString(), "release", model, channel, version, previous,
                classes, List.of(Stage.parse("100%")), Duration.ZERO, 0, false, Rollout.State.COMPLETED, 0, now,
                null, AuditActor.current(), now, now);
        return insert(c, ro).id();
    }

    // ---------------------------------------------------------------- counting

    private record DeviceRow(String id, Map<String, String> labels) {
    }

    private record Report(String result, String code, Instant at) {
    }

    private record Health(Instant sentAt, long inferences, long errors, Double p95) {
    }

    /** The targeted devices of one rollout with what each has reported, for counting stages. */
    private final class Fleet {
        final Rollout ro;
        final List<DeviceRow> devices;
        final int[] first;
        final Map<String, Report> reports;
        final Map<String, Health> running;
        final Map<String, Instant> lastSeen;
        final Instant now;

        Fleet(Rollout ro, List<DeviceRow> devices, Map<String, Report> reports, Map<String, Health> running,
              Map<String, Instant> lastSeen, Instant now) {
            this.ro = ro;
            this.devices = devices;
            this.reports = reports;
            this.running = running;
            this.lastSeen = lastSeen;
            this.now = now;
            this.first = new int[devices.size()];
            for (int i = 0; i < devices.size(); i++) {
                first[i] = ro.firstStage(devices.get(i).id(), devices.get(i).labels());
            }
        }

        StageStats stats(int stage) {
            int targeted = 0;
            int downloaded = 0;
            int installed = 0;
            int healthy = 0;
            int failed = 0;
            int offline = 0;
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < devices.size(); i++) {
                if (first[i] < 0 || first[i] > stage) {
                    continue;
                }
                targeted++;
                String d = devices.get(i).id();
                Health h = running.get(d);
                Report r = reports.get(d);
                String failure = null;
                boolean ok = false;
                boolean inst = false;
                boolean down = false;
                if (h != null && (r == null || !h.sentAt().isBefore(r.at()) || !bad(r))) {
                    String why = criteria.unhealthy(h.inferences(), h.errors(), h.p95());
                    inst = true;
                    down = true;
                    if (why == null) {
                        ok = true;
                    } else {
                        failure = d + " unhealthy (" + why + ")";
                    }
                } else if (r != null) {
                    switch (r.result()) {
                        case "healthy" -> {
                            ok = true;
                            inst = true;
                            down = true;
                        }
                        case "installed" -> {
                            inst = true;
                            down = true;
                        }
                        case "fallback", "refused" -> {
                            down = true;
                            failure = d + " " + r.result() + (r.code() == null ? "" : " " + r.code());
                        }
                        default -> failure = d + " " + r.result() + (r.code() == null ? "" : " " + r.code());
                    }
                }
                if (down) {
                    downloaded++;
                }
                if (inst) {
                    installed++;
                }
                if (ok) {
                    healthy++;
                }
                if (failure != null) {
                    failed++;
                    if (failures.size() < 5) {
                        failures.add(failure);
                    }
                } else if (!ok && !inst) {
                    Instant seen = lastSeen.get(d);
                    if (seen == null || seen.isBefore(now.minus(criteria.staleAfter()))) {
                        offline++;
                    }
                }
            }
            return new StageStats(ro.stages().get(stage).text(), stage <= ro.currentStage(), targeted, downloaded,
                    installed, healthy, failed, offline, failures);
        }

        private boolean bad(Report r) {
            return !r.result().equals("installed") && !r.result().equals("healthy");
        }
    }

    private Fleet fleet(Connection c, Rollout ro, Instant now) throws SQLException {
        List<DeviceRow> devices = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, status, labels FROM devices ORDER BY id");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                DeviceStatus st = DeviceStatus.fromDb(rs.getString(2));
                if (st != DeviceStatus.ACTIVE) {
                    continue;
                }
                Map<String, String> labels = Labels.fromJson(rs.getString(3));
                if (ro.targets(labels)) {
                    devices.add(new DeviceRow(rs.getString(1), labels));
                }
            }
        }
        Map<String, Report> reports = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT device_id, result, code, received_at FROM model_reports "
                + "WHERE model_name = ? AND version = ? AND received_at >= ? ORDER BY id")) {
            ps.setString(1, ro.model());
            ps.setLong(2, ro.version());
            ps.setTimestamp(3, Timestamp.from(ro.createdAt()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    reports.put(rs.getString(1), new Report(rs.getString(2), rs.getString(3),
                            rs.getTimestamp(4).toInstant()));
                }
            }
        }
        Map<String, Health> running = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT h.device_id, h.received_at, h.inferences, "
                + "h.inference_errors, h.latency_p95_ms FROM device_health h JOIN device_models m ON m.device_id = "
                + "h.device_id WHERE m.model_name = ? AND m.version = ? AND h.received_at >= ?")) {
            ps.setString(1, ro.model());
            ps.setLong(2, ro.version());
            ps.setTimestamp(3, Timestamp.from(ro.createdAt()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    double p95 = rs.getDouble(5);
                    running.put(rs.getString(1), new Health(rs.getTimestamp(2).toInstant(), rs.getLong(3),
                            rs.getLong(4), rs.wasNull() ? null : p95));
                }
            }
        }
        Map<String, Instant> lastSeen = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT device_id, received_at FROM device_health");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                lastSeen.put(rs.getString(1), rs.getTimestamp(2).toInstant());
            }
        }
        return new Fleet(ro, devices, reports, running, lastSeen, now);
    }

    // ---------------------------------------------------------------- storage

    /** The channel's current release of a model (the version rollouts replace and return to). */
    record Baseline(long version, List<String> classes, Long rollbackFrom) {
    }

    static Baseline baseline(Connection c, String model, String channel) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT version, classes, rollback_from FROM model_releases "
                + "WHERE model_name = ? AND channel = ?")) {
            ps.setString(1, model);
            ps.setString(2, channel);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                String classes = rs.getString(2);
                long rb = rs.getLong(3);
                return new Baseline(rs.getLong(1), classes.isEmpty() ? List.of() : List.of(classes.split(",")),
                        rs.wasNull() ? null : rb);
            }
        }
    }

    private static void setRelease(Connection c, String model, String channel, long version, List<String> classes,
                                   Long rollbackFrom, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM model_releases WHERE model_name = ? AND "
                + "channel = ?")) {
            ps.setString(1, model);
            ps.setString(2, channel);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO model_releases (model_name, channel, version, "
                + "classes, rollback_from, released_at) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, model);
            ps.setString(2, channel);
            ps.setLong(3, version);
            ps.setString(4, String.join(",", classes));
            if (rollbackFrom == null) {
                ps.setNull(5, Types.BIGINT);
            } else {
                ps.setLong(5, rollbackFrom);
            }
            ps.setTimestamp(6, Timestamp.from(now));
            ps.executeUpdate();
        }
    }

    /** The latest rollout of a model and channel. */
    static Optional<Rollout> latest(Connection c, String model, String channel) throws SQLException {
        List<Rollout> l = query(c, "WHERE model_name = ? AND channel = ? ORDER BY seq DESC", model, channel);
        return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
    }

    /** Every rollout of the channel, oldest first. */
    static List<Rollout> ofChannel(Connection c, String channel) throws SQLException {
        return query(c, "WHERE channel = ? ORDER BY seq", channel);
    }

    static List<Rollout> query(Connection c, String where, Object... args) throws SQLException {
        List<Rollout> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + Rollout.COLUMNS + " FROM rollouts " + where)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(Rollout.read(rs));
                }
            }
        }
        return out;
    }

    static Rollout find(Connection c, String id) throws SQLException {
        return load(c, id);
    }

    private static Rollout load(Connection c, String id) throws SQLException {
        List<Rollout> l = query(c, "WHERE id = ?", id);
        return l.isEmpty() ? null : l.get(0);
    }

    private static Rollout insert(Connection c, Rollout r) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO rollouts (id, name, model_name, channel, version, "
                + "previous_version, classes, stages, soak_seconds, max_failure, auto_rollback, state, current_stage, "
                + "stage_started_at, halt_reason, created_by, created_at, updated_at) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, r.id());
            ps.setString(2, r.name());
            ps.setString(3, r.model());
            ps.setString(4, r.channel());
            ps.setLong(5, r.version());
            if (r.previousVersion() == null) {
                ps.setNull(6, Types.BIGINT);
            } else {
                ps.setLong(6, r.previousVersion());
            }
            ps.setString(7, String.join(",", r.classes()));
            ps.setString(8, Stage.format(r.stages()));
            ps.setLong(9, r.soak().toSeconds());
            ps.setDouble(10, r.maxFailure());
            ps.setBoolean(11, r.autoRollback());
            ps.setString(12, r.state().dbName());
            ps.setInt(13, r.currentStage());
            ps.setTimestamp(14, Timestamp.from(r.stageStartedAt()));
            ps.setString(15, r.haltReason());
            ps.setString(16, truncate(r.createdBy(), 1024));
            ps.setTimestamp(17, Timestamp.from(r.createdAt()));
            ps.setTimestamp(18, Timestamp.from(r.updatedAt()));
            ps.executeUpdate();
        }
        return load(c, r.id());
    }

    private static void update(Connection c, Rollout r) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE rollouts SET state = ?, current_stage = ?, "
                + "stage_started_at = ?, halt_reason = ?, updated_at = ? WHERE id = ?")) {
            ps.setString(1, r.state().dbName());
            ps.setInt(2, r.currentStage());
            ps.setTimestamp(3, Timestamp.from(r.stageStartedAt()));
            ps.setString(4, truncate(r.haltReason(), 2048));
            ps.setTimestamp(5, Timestamp.from(r.updatedAt()));
            ps.setString(6, r.id());
            ps.executeUpdate();
        }
    }

    @FunctionalInterface
    private interface Change {
        Rollout apply(Rollout r) throws ModelException;
    }

    private Rollout change(String id, String action, Change change) throws ModelException, StoreException {
        Rollout r = store.inTransaction(c -> {
            Rollout ro = load(c, id);
            if (ro == null) {
                throw new ModelException(Kind.NOT_FOUND, "rollout.not_found", "no rollout '" + id + "'");
            }
            Rollout next = change.apply(ro);
            update(c, next);
            return next;
        });
        audit.record(event(r, action, Map.of()));
        return r;
    }

    private Rollout with(Rollout r, Rollout.State state, int stage, Instant stageStarted, String haltReason) {
        return new Rollout(r.seq(), r.id(), r.name(), r.model(), r.channel(), r.version(), r.previousVersion(),
                r.classes(), r.stages(), r.soak(), r.maxFailure(), r.autoRollback(), state, stage, stageStarted,
                haltReason, r.createdBy(), r.createdAt(), clock.instant());
    }

    private static AuditEvent event(Rollout r, String action, Map<String, Object> extra) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("action", action);
        d.put("rollout", r.id());
        d.put("name", r.name());
        d.put("model", r.model());
        d.put("version", r.version());
        d.put("channel", r.channel());
        d.put("state", r.state().dbName());
        d.put("stage", r.stage().text());
        if (r.haltReason() != null) {
            d.put("reason", r.haltReason());
        }
        d.putAll(extra);
        return new AuditEvent(AuditEvent.ROLLOUT, AuditActor.current(), r.model() + "@" + r.channel(), d);
    }

    static String percent(double share) {
        return java.math.BigDecimal.valueOf(share * 100).stripTrailingZeros().toPlainString() + "%";
    }

    private static ModelException bad(String message) {
        return new ModelException(Kind.BAD_INPUT, "rollout.invalid", message);
    }

    private static ModelException conflict(Rollout r, String message) {
        return new ModelException(Kind.CONFLICT, "rollout.state", "rollout " + r.id() + " is " + r.state().dbName()
                + ": " + message);
    }

    private static boolean exists(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static String truncate(String s, int max) {
        return s == null ? null : s.length() <= max ? s : s.substring(0, max);
    }
}
