package dev.siteward.gateway.inference;

import dev.siteward.gateway.audit.AuditTrail;
import dev.siteward.gateway.models.ReleaseTargets;
import dev.siteward.gateway.retention.DataRecords;
import dev.siteward.gateway.retention.MinimisationKey;
import dev.siteward.gateway.retention.RetentionSettings;
import dev.siteward.gateway.rollout.Rollout;
import dev.siteward.gateway.rollout.RolloutShadows;
import dev.siteward.gateway.rollout.Stage;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.policies.PolicyLoader;
import dev.siteward.policies.SiteConfig;
import dev.siteward.policies.retention.DataClass;
import dev.siteward.policies.retention.RetentionRules;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * What shadow mode and storing under retention cost the active readings (docs/benchmarks.md, "Shadow mode and
 * storing under retention"): reading → result latency p50/p99 of the vibration model through
 * {@link InferenceService} at a fixed rate (100 devices), with neither, with every reading and result stored on the
 * embedded H2 under a rule retaining both classes, with vibration v2 as a live shadow candidate, and with both; the
 * four are measured one after the other in each of three rounds (the machine is shared). Run:
 * {@code mvn -B -q -pl gateway -am -Pbench-shadow -DskipTests test -Dbench.seconds=5 -Dbench.rate=2000}.
 */
public final class ShadowStoreBench {

    private ShadowStoreBench() {
    }

    record Figures(double p50, double p99, int answered, long dropped, long stored, long compared, long shed) {
    }

    public static void main(String[] args) throws Exception {
        double seconds = Double.parseDouble(System.getProperty("bench.seconds", "5"));
        int rate = Integer.parseInt(System.getProperty("bench.rate", "2000"));
        System.out.printf(Locale.ROOT, "shadow/store bench: java %s, %d cpus, %.0f s per measurement at %d "
                        + "readings/s (100 devices)%n", System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), seconds, rate);
        Path dir = Files.createTempDirectory("shadow-bench");
        Path policy = Files.createDirectories(dir.resolve("policy"));
        Files.writeString(policy.resolve("retention.yaml"), """
                schemaVersion: 1
                rules: []
                retention:
                  classes:
                    sensor-readings:
                      fields: [seq, ts, features, model]
                    inference-results:
                      fields: [seq, model, version, outputs, score, decision, latency_ms]
                """);
        RetentionRules rules = PolicyLoader.load(policy, SiteConfig.DEFAULTS).retention();
        try (GatewayStore store = GatewayStore.openEmbedded(dir.resolve("data"))) {
            DataRecords records = new DataRecords(store, () -> rules, MinimisationKey.ensure(dir.resolve("data")),
                    Clock.systemUTC(), RetentionSettings.defaults());
            for (int round = 1; round <= 3; round++) {
                Figures base = run(seconds, rate, null, false);
                Figures stored = run(seconds, rate, records, false);
                Figures shadow = run(seconds, rate, null, true);
                Figures both = run(seconds, rate, records, true);
                System.out.printf(Locale.ROOT, "round %d: p50/p99 ms: neither %.3f/%.3f; stored %.3f/%.3f "
                                + "(%d stored, %d dropped); shadow %.3f/%.3f (%d compared, %d shed); both %.3f/%.3f "
                                + "(%d stored, %d dropped, %d compared, %d shed); answered %d/%d/%d/%d%n", round,
                        base.p50(), base.p99(), stored.p50(), stored.p99(), stored.stored(), stored.dropped(),
                        shadow.p50(), shadow.p99(), shadow.compared(), shadow.shed(), both.p50(), both.p99(),
                        both.stored(), both.dropped(), both.compared(), both.shed(), base.answered(),
                        stored.answered(), shadow.answered(), both.answered());
            }
        }
    }

    static Figures run(double seconds, int rate, DataRecords records, boolean shadow) throws Exception {
        JsonNode v = DemoModels.vectors("vibration").get("v1");
        DynamicBatcher.Settings settings = new DynamicBatcher.Settings(32, 2000, 4096, 64);
        InferenceService service = new InferenceService(d -> List.of(new ReleaseTargets.Target("demo/vibration", 1,
                "stable", null, "x", 0, List.of(), List.of())),
                (model, version) -> DemoModels.load("vibration-v" + version, model, version), null, AuditTrail.NONE,
                "bench", settings, new InferenceMetrics(), Clock.systemUTC());
        InferenceRecords store = records == null ? null : new InferenceRecords(records, 10_000, 500);
        service.records(store);
        long[] shadowCounts = new long[2];
        ShadowRuns runs = null;
        if (shadow) {
            Instant now = Instant.now();
            Rollout r = new Rollout(1, "00000000-0000-4000-8000-000000000001", "bench", "demo/vibration", "stable",
                    2, 1L, List.of(), Stage.parseList("100%"), Duration.ZERO, 0.05, false, Rollout.State.RUNNING, 0,
                    now, null, "bench", now, now);
            RolloutShadows.Live live = new RolloutShadows.Live(r, 2, 0.1, now.plus(Duration.ofHours(1)));
            runs = new ShadowRuns(new ShadowRuns.Source() {
                @Override
                public List<RolloutShadows.Live> live() {
                    return List.of(live);
                }

                @Override
                public void add(String rolloutId, RolloutShadows.Delta delta) {
                    shadowCounts[0] += delta.compared();
                    shadowCounts[1] += delta.shed();
                }
            }, d -> Map.of(), (model, version) -> DemoModels.load("vibration-v" + version, model, version),
                    settings, Clock.systemUTC());
            runs.refresh();
            service.shadows(runs);
        }
        // warm-up, then the measured period
        measure(service, v, rate, Math.max(1, seconds * 0.2));
        double[] lat = measure(service, v, rate, seconds);
        if (store != null) {
            store.drain(30, TimeUnit.SECONDS);
        }
        if (runs != null) {
            runs.drain(30, TimeUnit.SECONDS);
            runs.flush();
        }
        Figures f = new Figures(percentile(lat, 0.50), percentile(lat, 0.99), lat.length,
                store == null ? 0 : store.dropped(), store == null ? 0 : store.stored(DataClass.INFERENCE_RESULTS)
                + store.stored(DataClass.SENSOR_READINGS), shadowCounts[0], shadowCounts[1]);
        service.close();
        return f;
    }

    static double[] measure(InferenceService service, JsonNode v, int rate, double seconds) throws Exception {
        int total = (int) (rate * seconds);
        double[] lat = new double[total];
        AtomicInteger next = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(total);
        long start = System.nanoTime();
        for (int i = 0; i < total; i++) {
            long due = start + (long) (i * 1e9 / rate);
            long wait = due - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            service.submit("s" + (i % 100), new InferenceService.Reading(i, null, DemoModels.row(v.get("features"),
                    i % 64), null), o -> {
                        lat[next.getAndIncrement()] = o.result() == null ? Double.NaN : o.result().latencyMs();
                        done.countDown();
                    });
        }
        done.await(60, TimeUnit.SECONDS);
        return Arrays.stream(lat, 0, next.get()).filter(x -> !Double.isNaN(x)).toArray();
    }

    static double percentile(double[] values, double q) {
        double[] s = values.clone();
        Arrays.sort(s);
        return s.length == 0 ? Double.NaN : s[Math.min(s.length - 1, (int) Math.ceil(q * s.length) - 1)];
    }
}
