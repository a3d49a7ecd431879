package dev.siteward.gateway.inference;

import dev.siteward.gateway.rollout.RolloutShadows;
import dev.siteward.gateway.rollout.ShadowLatency;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shadow mode (docs/rollouts.md, "Shadow mode"): a rollout's candidate version runs beside the active release on
 * the same readings of the devices the rollout targets and has not reached yet. Each candidate has its own
 * {@link DynamicBatcher} that runs a batch only while the active model's batcher is idle, and its queue takes a
 * reading only while the active queue holds less than one batch: under load the shadow is shed first (counted),
 * never the active readings. The shadow's outputs and its own k-of-n decisions are compared with the active's — a
 * reading agrees when the decisions are equal and the decision scores differ by at most the rollout's tolerance —
 * and are never published and never request an action.
 *
 * <p>Which shadows are live comes from the database ({@link RolloutShadows#live}), re-read by {@link #refresh}
 * (every {@value #SWEEP_SECONDS} s once {@link #start}ed), which also loads new candidates from their verified bytes
 * and closes the sessions of ended ones (rollout completed, aborted, rolled back, or window over). Counts and
 * latency histograms are added to the rollout's row by {@link #flush} on the same schedule, so they survive a
 * restart.
 */
public final class ShadowRuns implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ShadowRuns.class);
    static final long SWEEP_SECONDS = 2;
    private static final Duration LABELS_TTL = Duration.ofSeconds(5);

    /** Where live shadows come from and where their counts go (the rollout tables; replaceable in tests). */
    public interface Source {
        List<RolloutShadows.Live> live() throws Exception;

        void add(String rolloutId, RolloutShadows.Delta delta) throws Exception;
    }

    /** A device's labels (channel, class), which decide whether a rollout targets it. */
    public interface Labels {
        Map<String, String> of(String deviceId) throws Exception;
    }

    private record CachedLabels(Map<String, String> labels, Instant until) {
    }

    private final Source source;
    private final Labels labels;
    private final InferenceService.Loader loader;
    private final DynamicBatcher.Settings activeSettings;
    private final Clock clock;
    private final Map<String, Run> runs = new ConcurrentHashMap<>();
    private final Map<String, CachedLabels> labelCache = new ConcurrentHashMap<>();
    private final InferenceMetrics batcherMetrics = new InferenceMetrics();
    private final Object flushLock = new Object();
    private ScheduledExecutorService sweeper;

    public ShadowRuns(Source source, Labels labels, InferenceService.Loader loader,
                      DynamicBatcher.Settings activeSettings, Clock clock) {
        this.source = source;
        this.labels = labels;
        this.loader = loader;
        this.activeSettings = activeSettings;
        this.clock = clock;
    }

    /** Refreshes and flushes every {@value #SWEEP_SECONDS} s on a daemon thread. */
    public synchronized void start() {
        if (sweeper != null) {
            return;
        }
        sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "inference-shadow");
            t.setDaemon(true);
            return t;
        });
        sweeper.scheduleWithFixedDelay(() -> {
            try {
                refresh();
                flush();
            } catch (RuntimeException e) {
                LOG.warn("shadow mode: sweep failed: {}", e.toString());
            }
        }, 0, SWEEP_SECONDS, TimeUnit.SECONDS);
    }

    /**
     * Re-reads the live shadows: loads new candidates (verified bytes only; one that does not verify or load counts
     * every reading it would have run as a shadow error) and ends the runs whose shadow is over, flushing their
     * counts and closing their sessions.
     */
    public synchronized void refresh() {
        List<RolloutShadows.Live> live;
        try {
            live = source.live();
        } catch (Exception e) {
            LOG.warn("shadow mode: cannot read the live shadows: {}", e.toString());
            return;
        }
        Set<String> ids = new HashSet<>();
        for (RolloutShadows.Live l : live) {
            ids.add(l.rollout().id());
            Run run = runs.get(l.rollout().id());
            if (run != null) {
                run.live = l;
                continue;
            }
            runs.put(l.rollout().id(), load(l));
        }
        for (Run run : List.copyOf(runs.values())) {
            if (!ids.contains(run.live.rollout().id())) {
                end(run);
            }
        }
    }

    private Run load(RolloutShadows.Live l) {
        String model = l.rollout().model();
        try {
            LoadedModel loaded = loader.load(model, l.version());
            Run run = new Run(l, null);
            int capacity = Math.max(1, activeSettings.capacity() / 4);
            DynamicBatcher.Settings s = new DynamicBatcher.Settings(activeSettings.maxBatch(),
                    activeSettings.maxDelayMicros(), capacity, Math.min(activeSettings.perDevice(), capacity));
            run.batcher = new DynamicBatcher(model + "#shadow-" + l.version(), loaded, s, run, batcherMetrics,
                    () -> run.activeIdle());
            LOG.info("shadow mode: {} version {} runs beside the active release (rollout {})", model, l.version(),
                    l.rollout().id());
            return run;
        } catch (Exception e) {
            LOG.warn("shadow mode: {} version {} (rollout {}) cannot run: it did not verify or load: {}", model,
                    l.version(), l.rollout().id(), e.toString());
            return new Run(l, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    private void end(Run run) {
        runs.remove(run.live.rollout().id());
        if (run.batcher != null) {
            run.batcher.close();
        }
        flush(run);
        LOG.info("shadow mode: ended for {} version {} (rollout {}); its session is closed",
                run.live.rollout().model(), run.live.version(), run.live.rollout().id());
    }

    /** Adds what was compared since the last flush to each rollout's row. */
    public void flush() {
        for (Run run : runs.values()) {
            flush(run);
        }
    }

    private void flush(Run run) {
        synchronized (flushLock) {
            RolloutShadows.Delta d = run.delta();
            if (d.empty()) {
                return;
            }
            try {
                source.add(run.live.rollout().id(), d);
                run.flushed(d);
            } catch (Exception e) {
                LOG.warn("shadow mode: cannot record the comparison of rollout {}: {}", run.live.rollout().id(),
                        e.toString());
            }
        }
    }

    /**
     * The comparison a reading of {@code device} served by {@code activeVersion} of {@code model} takes part in, or
     * {@code null} when no live shadow applies. Reads no database on this path except a device's labels once every
     * 5 s.
     */
    Comparison candidate(String device, String model, long activeVersion) {
        if (runs.isEmpty()) {
            return null;
        }
        Instant now = clock.instant();
        for (Run run : runs.values()) {
            RolloutShadows.Live l = run.live;
            if (!l.rollout().model().equals(model) || l.version() == activeVersion || !now.isBefore(l.until())) {
                continue;
            }
            Map<String, String> deviceLabels = labels(device, now);
            if (deviceLabels != null && l.rollout().targets(deviceLabels)) {
                return new Comparison(run);
            }
        }
        return null;
    }

    /**
     * Queues the reading for the candidate, after the active batcher took it. Shed (counted) when the active queue
     * holds a batch or more, or the shadow queue is full.
     */
    void submit(Comparison c, String device, double[] raw, long arrivedNanos, DynamicBatcher active) {
        Run run = c.run;
        if (run.batcher == null) {
            c.shadowFailed();
            return;
        }
        run.active = active;
        InferencePipeline pipeline = run.batcher.model().pipeline();
        float[] row;
        try {
            row = pipeline.prepare(raw);
        } catch (ReadingError e) {
            c.shadowFailed();
            return;
        }
        if (active.depth() >= activeSettings.maxBatch()
                || !run.batcher.offer(new DynamicBatcher.Job(device, raw, row, pipeline, arrivedNanos, c))) {
            c.shed();
        }
    }

    private Map<String, String> labels(String device, Instant now) {
        CachedLabels cached = labelCache.get(device);
        if (cached == null || now.isAfter(cached.until())) {
            try {
                cached = new CachedLabels(labels.of(device), now.plus(LABELS_TTL));
            } catch (Exception e) {
                return null;
            }
            labelCache.put(device, cached);
        }
        return cached.labels();
    }

    /** Prometheus text: {@code siteward_inference_shadow_*} per model, candidate version and rollout. */
    public String prometheus() {
        StringBuilder b = new StringBuilder();
        b.append("# HELP siteward_inference_shadow_live Shadow candidates running now.\n");
        b.append("# TYPE siteward_inference_shadow_live gauge\n");
        b.append("siteward_inference_shadow_live ").append(runs.size()).append('\n');
        counter(b, "compared", "Readings run by both the active release and the shadow candidate.", r -> r.compared);
        counter(b, "agreed", "Compared readings with equal decisions and scores within the tolerance.",
                r -> r.agreed);
        counter(b, "decisions_equal", "Compared readings with equal decisions.", r -> r.decisionsEqual);
        counter(b, "errors", "Readings the shadow candidate could not run.", r -> r.errors);
        counter(b, "shed", "Readings not run by the shadow candidate because the active release was busy or the "
                + "shadow queue full.", r -> r.shed);
        b.append("# HELP siteward_inference_shadow_latency_ms Reading to result latency of the compared readings "
                + "(bucket upper bounds).\n");
        b.append("# TYPE siteward_inference_shadow_latency_ms summary\n");
        for (Run r : runs.values()) {
            for (String side : new String[] {"active", "shadow"}) {
                long[] counts = side.equals("active") ? r.activeLatency.snapshot() : r.shadowLatency.snapshot();
                for (double q : new double[] {0.5, 0.99}) {
                    Double v = ShadowLatency.quantile(counts, q);
                    if (v != null) {
                        b.append("siteward_inference_shadow_latency_ms{").append(r.labels()).append(",side=\"")
                                .append(side).append("\",quantile=\"").append(q).append("\"} ").append(v)
                                .append('\n');
                    }
                }
            }
        }
        return b.toString();
    }

    private void counter(StringBuilder b, String name, String help, java.util.function.Function<Run, AtomicLong> f) {
        b.append("# HELP siteward_inference_shadow_").append(name).append("_total ").append(help).append('\n');
        b.append("# TYPE siteward_inference_shadow_").append(name).append("_total counter\n");
        for (Run r : runs.values()) {
            b.append("siteward_inference_shadow_").append(name).append("_total{").append(r.labels()).append("} ")
                    .append(f.apply(r).get()).append('\n');
        }
    }

    /** The live runs' rollout ids (tests and status). */
    public Set<String> running() {
        return Set.copyOf(runs.keySet());
    }

    /** Waits until every shadow queue is empty (tests). */
    boolean drain(long timeout, TimeUnit unit) throws InterruptedException {
        for (Run r : runs.values()) {
            if (r.batcher != null && !r.batcher.drain(timeout, unit)) {
                return false;
            }
        }
        return true;
    }

    /** Flushes the counts and closes every shadow session. */
    @Override
    public synchronized void close() {
        if (sweeper != null) {
            sweeper.shutdownNow();
        }
        for (Run run : List.copyOf(runs.values())) {
            end(run);
        }
    }

    /** One live shadow: its batcher, its per-device decision windows and its counts. */
    static final class Run implements DynamicBatcher.Sink {
        volatile RolloutShadows.Live live;
        volatile DynamicBatcher batcher;
        volatile DynamicBatcher active;
        final String loadFailure;
        final Map<String, DecisionFilter> filters = new ConcurrentHashMap<>();
        final AtomicLong compared = new AtomicLong();
        final AtomicLong agreed = new AtomicLong();
        final AtomicLong decisionsEqual = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final AtomicLong shed = new AtomicLong();
        final ShadowLatency activeLatency = new ShadowLatency();
        final ShadowLatency shadowLatency = new ShadowLatency();
        // what the last flush recorded
        private long fCompared;
        private long fAgreed;
        private long fEqual;
        private long fErrors;
        private long fShed;
        private long[] fActive = new long[ShadowLatency.BUCKETS];
        private long[] fShadow = new long[ShadowLatency.BUCKETS];

        Run(RolloutShadows.Live live, String loadFailure) {
            this.live = live;
            this.loadFailure = loadFailure;
        }

        boolean activeIdle() {
            DynamicBatcher a = active;
            return a == null || a.idle();
        }

        String labels() {
            return "model=\"" + live.rollout().model() + "\",version=\"" + live.version() + "\",rollout=\""
                    + live.rollout().id() + "\"";
        }

        synchronized void record(boolean equal, boolean agree, double activeMs, double shadowMs) {
            activeLatency.observe(activeMs);
            shadowLatency.observe(shadowMs);
            if (equal) {
                decisionsEqual.incrementAndGet();
            }
            if (agree) {
                agreed.incrementAndGet();
            }
            compared.incrementAndGet();
        }

        synchronized RolloutShadows.Delta delta() {
            long[] a = activeLatency.snapshot();
            long[] s = shadowLatency.snapshot();
            long[] da = new long[a.length];
            long[] ds = new long[s.length];
            for (int i = 0; i < a.length; i++) {
                da[i] = a[i] - fActive[i];
                ds[i] = s[i] - fShadow[i];
            }
            return new RolloutShadows.Delta(compared.get() - fCompared, agreed.get() - fAgreed,
                    decisionsEqual.get() - fEqual, errors.get() - fErrors, shed.get() - fShed, da, ds);
        }

        synchronized void flushed(RolloutShadows.Delta d) {
            fCompared += d.compared();
            fAgreed += d.agreed();
            fEqual += d.decisionsEqual();
            fErrors += d.shadowErrors();
            fShed += d.shed();
            for (int i = 0; i < fActive.length; i++) {
                fActive[i] += d.activeLatency()[i];
                fShadow[i] += d.shadowLatency()[i];
            }
        }

        @Override
        public void completed(DynamicBatcher.Job job, LoadedModel model, Map<String, float[]> outputs, int index,
                              int size) {
            Comparison c = (Comparison) job.context();
            InferencePipeline pipeline = model.pipeline();
            Map<String, Object> row = pipeline.outputs(outputs, index, size);
            Boolean above = pipeline.aboveThreshold(row);
            String decision = null;
            if (above != null) {
                decision = filters.computeIfAbsent(job.device(), k -> pipeline.newFilter()).add(above).decision();
            }
            c.shadow(pipeline.decisionScore(row), decision, (System.nanoTime() - job.arrivedNanos()) / 1e6);
        }

        @Override
        public void failed(DynamicBatcher.Job job, ReadingError error) {
            ((Comparison) job.context()).shadowFailed();
        }
    }

    /** One reading run by both: completed when both sides answered, in either order. */
    static final class Comparison {
        private record Side(boolean ok, Double score, String decision, double latencyMs) {
        }

        private final Run run;
        private Side active;
        private Side shadow;

        Comparison(Run run) {
            this.run = run;
        }

        synchronized void active(Double score, String decision, double latencyMs) {
            active = new Side(true, score, decision, latencyMs);
            complete();
        }

        synchronized void activeFailed() {
            active = new Side(false, null, null, 0);
            complete();
        }

        synchronized void shadow(Double score, String decision, double latencyMs) {
            shadow = new Side(true, score, decision, latencyMs);
            complete();
        }

        synchronized void shadowFailed() {
            run.errors.incrementAndGet();
            shadow = new Side(false, null, null, 0);
            complete();
        }

        synchronized void shed() {
            run.shed.incrementAndGet();
            shadow = new Side(false, null, null, 0);
            complete();
        }

        private void complete() {
            if (active == null || shadow == null || !active.ok() || !shadow.ok()) {
                return;
            }
            boolean equal = Objects.equals(active.decision(), shadow.decision());
            boolean close = active.score() == null || shadow.score() == null
                    ? Objects.equals(active.score(), shadow.score())
                    : Math.abs(active.score() - shadow.score()) <= run.live.tolerance();
            run.record(equal, equal && close, active.latencyMs(), shadow.latencyMs());
        }
    }
}
