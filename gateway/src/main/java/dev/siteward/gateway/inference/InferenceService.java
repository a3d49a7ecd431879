package dev.siteward.gateway.inference;

import dev.siteward.gateway.audit.AuditEvent;
import dev.siteward.gateway.audit.AuditTrail;
import dev.siteward.gateway.authorization.PolicyService;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.drift.DriftMonitor;
import dev.siteward.gateway.models.ModelRepository;
import dev.siteward.gateway.models.ReleaseTargets;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.policies.AccessRequest;
import dev.siteward.policies.Effect;
import dev.siteward.policies.RequestContext;
import dev.siteward.policies.Resource;
import dev.siteward.policies.Subject;
import dev.siteward.policies.SubjectKind;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shared inference: resolves the model released to a device's class ({@link ReleaseTargets}), loads it only from
 * its verified bytes ({@link ModelRepository#loadVerified}), queues the reading on that model's
 * {@link DynamicBatcher}, and turns the batch's outputs into a result with a k-of-n decision. When a decision
 * starts an alarm and the signed spec names an action, the action is requested through the policy engine as the
 * gateway's own service identity, and the decision is audited. A new release for a model is hot-swapped in at the
 * next reading after it becomes the target (targets are at most {@value #TARGET_TTL_SECONDS} s old per device;
 * {@link TargetCache} re-reads busy devices' targets in bulk off the MQTT callback thread).
 */
public final class InferenceService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InferenceService.class);
    static final long TARGET_TTL_SECONDS = 5;
    /** A device's targets are re-read in the background this long before they expire, if it sent since. */
    static final Duration TARGET_REFRESH_LEAD = Duration.ofSeconds(2);
    static final Duration TARGET_REFRESH_PERIOD = Duration.ofMillis(500);

    /** A reading as the device sent it. */
    public record Reading(long seq, String ts, double[] features, String model) {
    }

    /** What a reading produced: a result or an error (exactly one of them is set). */
    public record Outcome(long seq, Result result, ReadingError error) {
    }

    /** A result, in the wire order of docs/mqtt.md. */
    public record Result(long seq, String model, long version, Map<String, Object> outputs, String decision,
                         double latencyMs) {
        /** The JSON object's fields. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("seq", seq);
            m.put("model", model);
            m.put("version", version);
            m.put("outputs", outputs);
            m.put("decision", decision);
            m.put("latency_ms", Math.round(latencyMs * 1000) / 1000.0);
            return m;
        }
    }

    /** Where the model for a device comes from (the release tables; replaceable in tests). */
    public interface Targets {
        List<ReleaseTargets.Target> forDevice(String deviceId) throws Exception;

        /** The targets of several devices at once (the background refresh; one transaction where possible). */
        default Map<String, List<ReleaseTargets.Target>> forDevices(List<String> deviceIds) throws Exception {
            Map<String, List<ReleaseTargets.Target>> out = new LinkedHashMap<>();
            for (String id : deviceIds) {
                out.put(id, forDevice(id));
            }
            return out;
        }
    }

    /** Loads a verified model version (the repository; replaceable in tests). */
    public interface Loader {
        LoadedModel load(String model, long version) throws Exception;
    }

    /** A queued reading; {@code repeat} when it is a copy of one already accepted (a resend, same seq). */
    private record Pending(Reading reading, Consumer<Outcome> reply, ShadowRuns.Comparison shadow, String key,
                           long digest, boolean repeat) {
    }

    private final Targets targets;
    private final Loader loader;
    private final PolicyService policies;
    private final AuditTrail audit;
    private final String serviceName;
    private final DynamicBatcher.Settings settings;
    private final InferenceMetrics metrics;
    private final Clock clock;
    private final TargetCache targetCache;
    private final Map<String, DynamicBatcher> batchers = new ConcurrentHashMap<>();
    private final Map<String, DecisionFilter> filters = new ConcurrentHashMap<>();
    private final Map<String, RecentReadings> recent = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile ShadowRuns shadows;
    private volatile InferenceRecords records;
    private final DriftMonitor drift;
    /**
     * Action requests (policy decision, audit record with its fsync) run here, in order, not on a batcher thread: an
     * alarm must not hold up the readings batched behind it. When {@value #ACTIONS_QUEUED} are waiting, the batcher
     * thread runs the next one itself (slower, never lost).
     */
    private final ThreadPoolExecutor actions;
    static final int ACTIONS_QUEUED = 10_000;

    public InferenceService(Targets targets, Loader loader, PolicyService policies, AuditTrail audit,
                            String serviceName, DynamicBatcher.Settings settings, InferenceMetrics metrics,
                            Clock clock) {
        this.targets = targets;
        this.loader = loader;
        this.policies = policies;
        this.audit = audit;
        this.serviceName = serviceName;
        this.settings = settings;
        this.metrics = metrics;
        this.clock = clock;
        this.drift = new DriftMonitor(DriftMonitor.Settings.DEFAULTS, clock);
        this.targetCache = new TargetCache(targets, clock, targetTtl(), TARGET_REFRESH_LEAD, TARGET_REFRESH_PERIOD);
        this.actions = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(ACTIONS_QUEUED), r -> {
                    Thread t = new Thread(r, "inference-actions");
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.CallerRunsPolicy());
    }

    /** Waits until every action request made so far has been decided and audited (tests, shutdown). */
    public boolean awaitActions(long timeout, TimeUnit unit) throws InterruptedException {
        java.util.concurrent.Future<?> marker;
        try {
            marker = actions.submit(() -> { });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return actions.awaitTermination(timeout, unit);
        }
        try {
            marker.get(timeout, unit);
            return true;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return false;
        }
    }

    /** The service over the gateway's release tables and model repository. */
    public static InferenceService overRepository(GatewayStore store, ModelRepository repository,
                                                  DeviceRegistry devices, PolicyService policies, AuditTrail audit,
                                                  String serviceName, DynamicBatcher.Settings settings,
                                                  InferenceMetrics metrics, Clock clock) {
        Targets t = new Targets() {
            @Override
            public List<ReleaseTargets.Target> forDevice(String deviceId) throws Exception {
                return store.inTransaction(c -> ReleaseTargets.forDevice(c, deviceId,
                        devices.labels(c, List.of(deviceId)).getOrDefault(deviceId, Map.of())));
            }

            @Override
            public Map<String, List<ReleaseTargets.Target>> forDevices(List<String> deviceIds) throws Exception {
                return store.inTransaction(c -> {
                    Map<String, List<ReleaseTargets.Target>> out = new LinkedHashMap<>();
                    ReleaseTargets.Reader reader = new ReleaseTargets.Reader(c);
                    Map<String, Map<String, String>> labels = devices.labels(c, deviceIds);
                    for (String id : deviceIds) {
                        out.put(id, reader.forDevice(id, labels.getOrDefault(id, Map.of())));
                    }
                    return out;
                });
            }
        };
        Loader l = (model, version) -> LoadedModel.of(repository.loadVerified(model, version));
        return new InferenceService(t, l, policies, audit, serviceName, settings, metrics, clock);
    }

    public InferenceMetrics metrics() {
        return metrics;
    }

    /** Runs rollouts' shadow candidates beside the active releases (docs/rollouts.md, "Shadow mode"). */
    public void shadows(ShadowRuns runs) {
        this.shadows = runs;
    }

    public ShadowRuns shadows() {
        return shadows;
    }

    /** Stores served readings and their results under the retention rules (docs/inference.md). */
    public void records(InferenceRecords store) {
        this.records = store;
    }

    public InferenceRecords records() {
        return records;
    }

    /** Input drift of the readings that passed validation, per model and device. */
    public DriftMonitor drift() {
        return drift;
    }

    /**
     * Runs a reading for a device; {@code reply} gets exactly one outcome, possibly on this thread (a refusal) or
     * later on the model's batcher thread.
     */
    public void submit(String deviceId, Reading reading, Consumer<Outcome> reply) {
        long arrived = System.nanoTime();
        String modelName = reading.model() == null ? "-" : reading.model();
        try {
            ReleaseTargets.Target target = target(deviceId, reading.model());
            modelName = target.model();
            DynamicBatcher batcher = batcher(target);
            InferencePipeline pipeline = batcher.model().pipeline();
            float[] row = pipeline.prepare(reading.features());
            drift.observe(deviceId, target.model(), target.version(), pipeline.reference(), reading.seq(),
                    reading.features());
            String key = deviceId + "\u0000" + target.model();
            long digest = RecentReadings.digest(reading.features(), reading.ts());
            RecentReadings seen = recent.computeIfAbsent(key, k -> new RecentReadings());
            boolean repeat = seen.claim(reading.seq(), digest, clock.millis()) == RecentReadings.Claim.REPEAT;
            ShadowRuns runs = shadows;
            ShadowRuns.Comparison shadow = runs == null || repeat ? null
                    : runs.candidate(deviceId, target.model(), pipeline.version());
            if (!batcher.offer(new DynamicBatcher.Job(deviceId, reading.features(), row, pipeline, arrived,
                    new Pending(reading, reply, shadow, key, digest, repeat)))) {
                if (!repeat) {
                    seen.failed(reading.seq(), digest);
                }
                throw new ReadingError(ReadingError.SHED, "the queue for " + target.model()
                        + " is full; reading dropped, send it again later");
            }
            if (shadow != null) {
                runs.submit(shadow, deviceId, reading.features(), arrived, batcher);
            }
        } catch (ReadingError e) {
            metrics.error(modelName, e.code());
            reply.accept(new Outcome(reading.seq(), null, e));
        }
    }

    /** Counts a refusal made before a reading reached {@link #submit} (not_json, too_large, topic refusals). */
    public void refused(String code) {
        metrics.error("-", code);
    }

    private ReleaseTargets.Target target(String deviceId, String requested) throws ReadingError {
        List<ReleaseTargets.Target> list;
        try {
            list = targetCache.get(deviceId);
        } catch (Exception e) {
            LOG.warn("cannot read the releases for {}: {}", deviceId, e.toString());
            throw new ReadingError(ReadingError.UNKNOWN_MODEL, "the gateway cannot read its releases now");
        }
        if (requested != null) {
            return list.stream().filter(t -> t.model().equals(requested)).findFirst().orElseThrow(
                    () -> new ReadingError(ReadingError.UNKNOWN_MODEL, requested
                            + " is not released to this device's class"));
        }
        if (list.isEmpty()) {
            throw new ReadingError(ReadingError.UNKNOWN_MODEL, "no model is released to this device's class");
        }
        if (list.size() > 1) {
            throw new ReadingError(ReadingError.UNKNOWN_MODEL, "several models are released to this device's "
                    + "class; name one in \"model\"");
        }
        return list.get(0);
    }

    private DynamicBatcher batcher(ReleaseTargets.Target target) throws ReadingError {
        DynamicBatcher b = batchers.get(target.model());
        if (b != null && b.model().pipeline().version() == target.version()) {
            return b;
        }
        synchronized (batchers) {
            b = batchers.get(target.model());
            if (b != null && b.model().pipeline().version() == target.version()) {
                return b;
            }
            LoadedModel loaded = load(target);
            if (b == null) {
                b = new DynamicBatcher(target.model(), loaded, settings, new Sink(), metrics);
                batchers.put(target.model(), b);
                LOG.info("inference: serving {} version {}", target.model(), target.version());
            } else {
                LOG.info("inference: hot swap of {} from version {} to {}", target.model(),
                        b.model().pipeline().version(), target.version());
                b.swap(loaded);
            }
            return b;
        }
    }

    private LoadedModel load(ReleaseTargets.Target target) throws ReadingError {
        try {
            return loader.load(target.model(), target.version());
        } catch (ReadingError e) {
            throw e;
        } catch (Exception e) {
            LOG.warn("cannot load {} version {} for inference: {}", target.model(), target.version(), e.toString());
            throw new ReadingError(ReadingError.UNKNOWN_MODEL, target.model() + " version " + target.version()
                    + " cannot be served (it did not verify or load)");
        }
    }

    /** Turns batch outputs into results; runs on the model's batcher thread. */
    private final class Sink implements DynamicBatcher.Sink {
        @Override
        public void completed(DynamicBatcher.Job job, LoadedModel model, Map<String, float[]> outputs, int index,
                              int size) {
            Pending p = (Pending) job.context();
            InferencePipeline pipeline = model.pipeline();
            Map<String, Object> rowOutputs = pipeline.outputs(outputs, index, size);
            Boolean above = pipeline.aboveThreshold(rowOutputs);
            RecentReadings seen = recent.computeIfAbsent(p.key(), k -> new RecentReadings());
            RecentReadings.Replay replay = p.repeat() ? seen.replay(p.reading().seq(), p.digest()) : null;
            boolean first = replay == null || replay.kind() == RecentReadings.Replay.Kind.RUN;
            String decision = null;
            if (above != null) {
                DecisionFilter filter = filters.computeIfAbsent(p.key(), k -> pipeline.newFilter());
                if (first) {
                    DecisionFilter.Step step = filter.add(above);
                    decision = step.decision();
                    if (step.alarmStarted() && pipeline.action() != null) {
                        String device = job.device();
                        long seq = p.reading().seq();
                        actions.execute(() -> requestActionSafely(pipeline, device, seq));
                    }
                } else if (replay.kind() == RecentReadings.Replay.Kind.DECIDED && replay.decision() != null) {
                    // a resend: the first copy's decision, counted once
                    decision = replay.decision();
                } else {
                    decision = filter.current();
                }
            }
            if (first) {
                seen.decided(p.reading().seq(), p.digest(), decision);
            } else {
                metrics.repeat(pipeline.model());
            }
            double latency = (System.nanoTime() - job.arrivedNanos()) / 1e6;
            metrics.result(pipeline.model(), latency);
            Result result = new Result(p.reading().seq(), pipeline.model(), pipeline.version(), rowOutputs, decision,
                    latency);
            p.reply().accept(new Outcome(p.reading().seq(), result, null));
            if (!first) {
                return;
            }
            if (p.shadow() != null) {
                p.shadow().active(pipeline.decisionScore(rowOutputs), decision, latency);
            }
            InferenceRecords store = records;
            if (store != null) {
                store.served(job.device(), p.reading(), result, pipeline.decisionScore(rowOutputs));
            }
        }

        @Override
        public void failed(DynamicBatcher.Job job, ReadingError error) {
            Pending p = (Pending) job.context();
            metrics.error("-", error.code());
            RecentReadings seen = recent.get(p.key());
            if (seen != null && !p.repeat()) {
                seen.failed(p.reading().seq(), p.digest());
            }
            p.reply().accept(new Outcome(p.reading().seq(), null, error));
            if (p.shadow() != null) {
                p.shadow().activeFailed();
            }
        }
    }

    private void requestActionSafely(InferencePipeline pipeline, String device, long seq) {
        try {
            requestAction(pipeline, device, seq);
        } catch (RuntimeException e) {
            LOG.error("inference: the {} request of {} for {} (seq {}) could not be decided or audited: {}",
                    pipeline.action(), pipeline.model(), device, seq, e.toString());
        }
    }

    /** Asks the policy engine, as the gateway's service identity, whether the action may run; audits the answer. */
    private void requestAction(InferencePipeline pipeline, String device, long seq) {
        String effect;
        String reason;
        if (policies == null) {
            effect = "deny";
            reason = "no policy engine (deny by default)";
        } else {
            PolicyService.Evaluation e = policies.decide(new AccessRequest(
                    new Subject(serviceName, SubjectKind.SERVICE, Set.of(), Map.of(), null),
                    pipeline.action(), new Resource(device, null, Map.of("model", pipeline.model())),
                    new RequestContext(Optional.ofNullable(policies.siteMode()).orElse(
                            RequestContext.DEFAULT_SITE_MODE))));
            effect = e.decision().effect() == Effect.ALLOW ? "allow" : "deny";
            reason = e.decision().reason();
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("source", "inference");
        details.put("model", pipeline.model());
        details.put("version", pipeline.version());
        details.put("device", device);
        details.put("seq", seq);
        details.put("effect", effect);
        details.put("reason", reason == null ? "" : reason);
        audit.record(new AuditEvent(AuditEvent.ACTION_DECISION, "service/" + serviceName, pipeline.action(),
                details));
        LOG.info("inference: {} on {} requested {} -> {} ({})", pipeline.model(), device, pipeline.action(), effect,
                reason);
    }

    /** Runs every queued reading, then closes the sessions and drains the store queue; a second call does nothing. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        targetCache.close();
        ShadowRuns runs = shadows;
        if (runs != null) {
            runs.close();
        }
        batchers.values().forEach(DynamicBatcher::close);
        batchers.clear();
        // the batchers are done: no new action requests; decide and audit the queued ones
        actions.shutdown();
        try {
            if (!actions.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("inference: {} action requests still queued at shutdown were not decided",
                        actions.getQueue().size());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        InferenceRecords store = records;
        if (store != null) {
            store.close();
        }
    }

    /** For status: the served version per model. */
    public Map<String, Long> served() {
        Map<String, Long> out = new LinkedHashMap<>();
        batchers.forEach((k, v) -> out.put(k, v.model().pipeline().version()));
        return out;
    }

    static Duration targetTtl() {
        return Duration.ofSeconds(TARGET_TTL_SECONDS);
    }
}
