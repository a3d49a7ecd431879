package dev.siteward.gateway.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.siteward.gateway.audit.AuditEvent;
import dev.siteward.gateway.models.ReleaseTargets;
import dev.siteward.gateway.rollout.Rollout;
import dev.siteward.gateway.rollout.RolloutShadows;
import dev.siteward.gateway.rollout.Stage;
import dev.siteward.pki.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Shadow mode with the committed vibration models: v1 active, v2 the candidate, compared on the readings of
 * vectors/vibration-shadow.json (numpy, models/demo/shadow_vectors.py).
 */
class ShadowRunsTest {

    private static final String MODEL = "demo/vibration";

    final MutableClock clock = MutableClock.atSystemTime();
    final List<RolloutShadows.Live> live = new CopyOnWriteArrayList<>();
    final List<RolloutShadows.Delta> deltas = new CopyOnWriteArrayList<>();
    final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
    final List<LoadedModel> shadowModels = new CopyOnWriteArrayList<>();
    InferenceService service;
    ShadowRuns shadows;

    void open(DynamicBatcher.Settings settings, boolean candidateLoads) {
        InferenceService.Loader active = (model, version) -> DemoModels.load("vibration-v" + version, model, version);
        InferenceService.Loader candidate = (model, version) -> {
            if (!candidateLoads) {
                throw new IllegalStateException("signature does not verify");
            }
            LoadedModel m = DemoModels.load("vibration-v" + version, model, version);
            shadowModels.add(m);
            return m;
        };
        service = new InferenceService(device -> List.of(new ReleaseTargets.Target(MODEL, 1, "stable", null, "x", 0,
                List.of(), List.of())), active, null, audit::add, "gateway", settings, new InferenceMetrics(), clock);
        shadows = new ShadowRuns(new ShadowRuns.Source() {
            @Override
            public List<RolloutShadows.Live> live() {
                return List.copyOf(live);
            }

            @Override
            public void add(String rolloutId, RolloutShadows.Delta delta) {
                deltas.add(delta);
            }
        }, device -> Map.of("channel", "stable", "class", "vibration"), candidate, settings, clock);
        service.shadows(shadows);
    }

    @AfterEach
    void close() {
        if (service != null) {
            service.close();
        }
    }

    RolloutShadows.Live candidate(long version) {
        Instant now = clock.instant();
        Rollout r = new Rollout(1, "6f1c1c1e-0000-4000-8000-000000000001", MODEL, MODEL, "stable", version, 1L,
                List.of(), Stage.parseList("10%,100%"), Duration.ZERO, 0.05, false, Rollout.State.RUNNING, 0, now,
                null, "test", now, now);
        return new RolloutShadows.Live(r, version, RolloutShadows.DEFAULT_TOLERANCE, now.plus(Duration.ofHours(1)));
    }

    static long sum(List<RolloutShadows.Delta> ds, java.util.function.ToLongFunction<RolloutShadows.Delta> f) {
        return ds.stream().mapToLong(f).sum();
    }

    @Test
    void agreementOfVersion2BesideVersion1EqualsWhatNumpyPredictsAndNothingOfTheShadowIsAnswered()
            throws Exception {
        JsonNode v = DemoModels.vectors("vibration-shadow");
        open(new DynamicBatcher.Settings(32, 500, 4096, 64), true);
        live.add(candidate(2));
        shadows.refresh();
        assertEquals(1, shadows.running().size());

        int n = v.get("features").size();
        List<InferenceService.Outcome> outcomes = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < n; i++) {
            // one device, in order: each model's k-of-n window sees the readings in the vectors' order
            LinkedBlockingQueue<InferenceService.Outcome> one = new LinkedBlockingQueue<>();
            service.submit("sensor-1", new InferenceService.Reading(i, null, DemoModels.row(v.get("features"), i),
                    null), one::add);
            InferenceService.Outcome o = one.poll(10, TimeUnit.SECONDS);
            assertNotNull(o, "reading " + i + " answered");
            outcomes.add(o);
            assertNull(one.poll(50, TimeUnit.MILLISECONDS), "one answer per reading");
        }
        assertTrue(shadows.drain(10, TimeUnit.SECONDS));
        shadows.flush();

        // the device got only the active release's answers, equal to numpy's v1 scores and decisions
        assertEquals(n, outcomes.size());
        for (int i = 0; i < n; i++) {
            InferenceService.Result r = outcomes.get(i).result();
            assertNotNull(r, "reading " + i);
            assertEquals(1, r.version());
            assertEquals(v.at("/active/anomaly/" + i).asDouble(), (Double) r.outputs().get("anomaly"), 1e-5);
            assertEquals(v.at("/active/decisions/" + i).asText(), r.decision());
        }
        // only the active release requested actions: one per alarm start in v1's decisions
        int alarmStarts = 0;
        String prev = "normal";
        for (JsonNode d : v.at("/active/decisions")) {
            if (d.asText().equals("alarm") && prev.equals("normal")) {
                alarmStarts++;
            }
            prev = d.asText();
        }
        assertTrue(service.awaitActions(10, TimeUnit.SECONDS), "action requests decided and audited");
        assertEquals(alarmStarts, audit.stream().filter(e -> e.type().equals(AuditEvent.ACTION_DECISION)).count());
        assertTrue(audit.stream().allMatch(e -> Long.valueOf(1).equals(e.details().get("version"))));

        assertEquals(v.get("compared").asLong(), sum(deltas, RolloutShadows.Delta::compared));
        assertEquals(v.get("agreed").asLong(), sum(deltas, RolloutShadows.Delta::agreed));
        assertEquals(v.get("decisionsEqual").asLong(), sum(deltas, RolloutShadows.Delta::decisionsEqual));
        assertEquals(0, sum(deltas, RolloutShadows.Delta::shadowErrors));
        assertEquals(0, sum(deltas, RolloutShadows.Delta::shed));
        long latencies = deltas.stream().flatMapToLong(d -> java.util.Arrays.stream(d.shadowLatency())).sum();
        assertEquals(n, latencies, "one shadow latency per compared reading");
        String metrics = shadows.prometheus();
        assertTrue(metrics.contains("siteward_inference_shadow_agreed_total{model=\"demo/vibration\",version=\"2\","
                + "rollout=\"6f1c1c1e-0000-4000-8000-000000000001\"} " + v.get("agreed").asLong()), metrics);
        assertTrue(metrics.contains("siteward_inference_shadow_latency_ms{"), metrics);
    }

    @Test
    void aResentReadingIsAnsweredAgainButComparedInShadowOnlyOnce() throws Exception {
        JsonNode v = DemoModels.vectors("vibration-shadow");
        open(new DynamicBatcher.Settings(32, 500, 4096, 64), true);
        live.add(candidate(2));
        shadows.refresh();

        int n = v.get("features").size();
        for (int i = 0; i < n; i++) {
            LinkedBlockingQueue<InferenceService.Outcome> answers = new LinkedBlockingQueue<>();
            for (int copy = 0; copy < 2; copy++) {
                service.submit("sensor-1", new InferenceService.Reading(i, null, DemoModels.row(v.get("features"), i),
                        null), answers::add);
            }
            for (int copy = 0; copy < 2; copy++) {
                InferenceService.Outcome o = answers.poll(10, TimeUnit.SECONDS);
                assertNotNull(o, "reading " + i + " copy " + copy);
                assertEquals(v.at("/active/decisions/" + i).asText(), o.result().decision());
            }
        }
        assertTrue(shadows.drain(10, TimeUnit.SECONDS));
        shadows.flush();

        assertEquals(v.get("compared").asLong(), sum(deltas, RolloutShadows.Delta::compared));
        assertEquals(v.get("agreed").asLong(), sum(deltas, RolloutShadows.Delta::agreed));
        assertEquals(v.get("decisionsEqual").asLong(), sum(deltas, RolloutShadows.Delta::decisionsEqual));
        assertEquals(n, service.metrics().repeats(MODEL));
    }

    @Test
    void underLoadTheShadowIsShedWhileEveryActiveReadingIsAnswered() throws Exception {
        JsonNode v = DemoModels.vectors("vibration-shadow");
        open(new DynamicBatcher.Settings(8, 200, 20_000, 2_000), true);
        live.add(candidate(2));
        shadows.refresh();
        int devices = 10;
        int perDevice = 1_000;
        CountDownLatch all = new CountDownLatch(devices * perDevice);
        AtomicInteger results = new AtomicInteger();
        AtomicInteger errors = new AtomicInteger();
        for (int i = 0; i < perDevice; i++) {
            for (int d = 0; d < devices; d++) {
                service.submit("sensor-" + d, new InferenceService.Reading(i, null,
                        DemoModels.row(v.get("features"), i % 128), null), o -> {
                            (o.result() != null ? results : errors).incrementAndGet();
                            all.countDown();
                        });
            }
        }
        assertTrue(all.await(60, TimeUnit.SECONDS));
        assertEquals(devices * perDevice, results.get(), "every active reading answered");
        assertEquals(0, errors.get());
        assertTrue(shadows.drain(30, TimeUnit.SECONDS));
        shadows.flush();
        long shed = sum(deltas, RolloutShadows.Delta::shed);
        long compared = sum(deltas, RolloutShadows.Delta::compared);
        assertTrue(shed > 0, "the shadow was shed under load");
        assertEquals(devices * perDevice, shed + compared + sum(deltas, RolloutShadows.Delta::shadowErrors),
                "every reading was compared or counted");
        assertEquals(0, service.metrics().errors(MODEL, ReadingError.SHED), "no active reading shed");
    }

    @Test
    void anEndedShadowClosesItsSessionAndComparesNoMore() throws Exception {
        JsonNode v = DemoModels.vectors("vibration-shadow");
        open(new DynamicBatcher.Settings(32, 500, 4096, 64), true);
        live.add(candidate(2));
        shadows.refresh();
        submitAndWait("sensor-1", v, 0);
        assertTrue(shadows.drain(10, TimeUnit.SECONDS));
        live.clear(); // the rollout was aborted, completed or rolled back
        shadows.refresh();
        assertEquals(0, shadows.running().size());
        assertEquals(1, sum(deltas, RolloutShadows.Delta::compared), "the last counts were flushed at the end");
        LoadedModel closed = shadowModels.get(0);
        assertThrows(Exception.class, () -> closed.onnx().run(new float[8], 1), "the shadow session is closed");
        submitAndWait("sensor-1", v, 1);
        shadows.flush();
        assertEquals(1, sum(deltas, RolloutShadows.Delta::compared));
    }

    @Test
    void aShadowWindowThatPassedComparesNoMore() throws Exception {
        JsonNode v = DemoModels.vectors("vibration-shadow");
        open(new DynamicBatcher.Settings(32, 500, 4096, 64), true);
        live.add(candidate(2));
        shadows.refresh();
        clock.advance(Duration.ofHours(1));
        submitAndWait("sensor-1", v, 0);
        assertTrue(shadows.drain(10, TimeUnit.SECONDS));
        shadows.flush();
        assertEquals(0, sum(deltas, RolloutShadows.Delta::compared));
    }

    @Test
    void aCandidateThatDoesNotVerifyCountsShadowErrorsAndTheActiveServesOn() throws Exception {
        JsonNode v = DemoModels.vectors("vibration-shadow");
        open(new DynamicBatcher.Settings(32, 500, 4096, 64), false);
        live.add(candidate(2));
        shadows.refresh();
        for (int i = 0; i < 5; i++) {
            assertNotNull(submitAndWait("sensor-1", v, i).result());
        }
        shadows.flush();
        assertEquals(5, sum(deltas, RolloutShadows.Delta::shadowErrors));
        assertEquals(0, sum(deltas, RolloutShadows.Delta::compared));
    }

    @Test
    void aDeviceAlreadyOnTheCandidateVersionIsNotShadowed() throws Exception {
        JsonNode v = DemoModels.vectors("vibration-shadow");
        open(new DynamicBatcher.Settings(32, 500, 4096, 64), true);
        live.add(candidate(1)); // the candidate is what the device runs already
        shadows.refresh();
        submitAndWait("sensor-1", v, 0);
        shadows.flush();
        assertTrue(deltas.isEmpty());
    }

    InferenceService.Outcome submitAndWait(String device, JsonNode v, int i) throws Exception {
        LinkedBlockingQueue<InferenceService.Outcome> one = new LinkedBlockingQueue<>();
        service.submit(device, new InferenceService.Reading(i, null, DemoModels.row(v.get("features"), i), null),
                one::add);
        InferenceService.Outcome o = one.poll(10, TimeUnit.SECONDS);
        assertNotNull(o);
        return o;
    }
}
