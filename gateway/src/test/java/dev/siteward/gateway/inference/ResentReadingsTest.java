package dev.siteward.gateway.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.siteward.gateway.audit.AuditEvent;
import dev.siteward.gateway.models.ReleaseTargets;
import dev.siteward.gateway.retention.DataRecords;
import dev.siteward.gateway.retention.MinimisationKey;
import dev.siteward.gateway.retention.RetentionSettings;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.TestDatabases;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.policies.PolicyLoader;
import dev.siteward.policies.SiteConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reading the SDK sends again (same device, model and seq) is one reading: answered with the decision its first
 * copy got, counted once in k-of-n, one action request per alarm, stored once. Decisions are numpy's
 * (vectors/vibration-shadow.json, the active v1 column).
 */
class ResentReadingsTest {

    private static final String MODEL = "demo/vibration";
    private static final String RETAINS_BOTH = """
            schemaVersion: 1
            rules: []
            retention:
              classes:
                sensor-readings:
                  fields: [seq, ts, features, model]
                  maxAge: 30d
                inference-results:
                  fields: [seq, model, version, score, decision]
                  maxAge: 30d
            """;

    @TempDir
    Path dir;
    final MutableClock clock = MutableClock.atSystemTime();
    final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
    final InferenceMetrics metrics = new InferenceMetrics();
    GatewayStore store;
    InferenceService service;
    InferenceRecords records;
    JsonNode v;

    @BeforeEach
    void open() throws Exception {
        Path data = dir.resolve("data");
        store = TestDatabases.open(TestDatabases.Kind.H2, data);
        Path p = Files.createDirectories(dir.resolve("policy"));
        Files.writeString(p.resolve("retention.yaml"), RETAINS_BOTH);
        var rules = PolicyLoader.load(p, SiteConfig.DEFAULTS).retention();
        DataRecords dataRecords = new DataRecords(store, () -> rules, MinimisationKey.ensure(data), clock,
                RetentionSettings.defaults());
        service = new InferenceService(device -> List.of(new ReleaseTargets.Target(MODEL, 1, "stable", null, "x", 0,
                List.of(), List.of())), (model, version) -> DemoModels.load("vibration-v1", model, version), null,
                audit::add, "gateway", new DynamicBatcher.Settings(32, 500, 4096, 64), metrics, clock);
        records = new InferenceRecords(dataRecords, 10_000, 500);
        service.records(records);
        v = DemoModels.vectors("vibration-shadow");
    }

    @AfterEach
    void close() {
        service.close();
        store.close();
        TestDatabases.drop(store);
    }

    /** Sends readings {@code from..to-1} as seq {@code i}, each {@code copies} times before waiting for answers. */
    List<InferenceService.Outcome> send(int from, int to, int copies, String ts) throws Exception {
        List<InferenceService.Outcome> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            LinkedBlockingQueue<InferenceService.Outcome> answers = new LinkedBlockingQueue<>();
            for (int c = 0; c < copies; c++) {
                // the copies are queued before the first is answered: a slow gateway, an SDK resending
                service.submit("sensor-1", new InferenceService.Reading(i, ts, DemoModels.row(v.get("features"), i),
                        null), answers::add);
            }
            for (int c = 0; c < copies; c++) {
                InferenceService.Outcome o = answers.poll(10, TimeUnit.SECONDS);
                assertNotNull(o, "reading " + i + " copy " + c + " answered");
                out.add(o);
            }
            assertNull(answers.poll(20, TimeUnit.MILLISECONDS), "one answer per copy");
        }
        return out;
    }

    long alarmStarts(int from, int to) {
        long starts = 0;
        String prev = "normal";
        for (int i = from; i < to; i++) {
            String d = v.at("/active/decisions/" + i).asText();
            if (d.equals("alarm") && prev.equals("normal")) {
                starts++;
            }
            prev = d;
        }
        return starts;
    }

    long actions() throws InterruptedException {
        assertTrue(service.awaitActions(10, TimeUnit.SECONDS), "action requests decided and audited");
        return audit.stream().filter(e -> e.type().equals(AuditEvent.ACTION_DECISION)).count();
    }

    long stored(String dataClass) throws Exception {
        assertTrue(records.drain(10, TimeUnit.SECONDS));
        return store.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM data_records WHERE data_class = ?")) {
                ps.setString(1, dataClass);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    @Test
    void aBurstResentThreeTimesGivesOneAlarmOneActionRequestAndOneStoredRecordPerReading() throws Exception {
        int n = v.get("features").size();
        List<InferenceService.Outcome> outcomes = send(0, n, 4, "2026-11-27T05:00:00Z");

        assertEquals(4 * n, outcomes.size());
        for (int k = 0; k < outcomes.size(); k++) {
            int i = k / 4;
            InferenceService.Result r = outcomes.get(k).result();
            assertNotNull(r, "reading " + i + " got a result, not an error");
            assertEquals(i, r.seq());
            // every copy carries the decision numpy gives the reading counted once
            assertEquals(v.at("/active/decisions/" + i).asText(), r.decision(), "reading " + i);
            assertEquals(v.at("/active/anomaly/" + i).asDouble(), (Double) r.outputs().get("anomaly"), 1e-5);
        }
        assertEquals(alarmStarts(0, n), actions(), "one action request per alarm start, not per copy");
        assertEquals(3L * n, metrics.repeats(MODEL));
        assertEquals(4L * n, metrics.results(MODEL), "every copy is answered");
        assertTrue(metrics.prometheus().contains("siteward_inference_repeats_total{model=\"demo/vibration\"} "
                + 3L * n));
        assertEquals(n, stored("sensor-readings"));
        assertEquals(n, stored("inference-results"));
    }

    @Test
    void aResendAfterTheAnswerIsAnsweredWithTheFirstCopysDecisionAndCountsNothing() throws Exception {
        // up to the middle of the first burst, then the device resends the reading that started the alarm
        List<InferenceService.Outcome> first = send(0, 8, 1, null);
        assertEquals("alarm", first.get(7).result().decision());
        long actions = actions();
        assertEquals(1, actions);
        for (int i = 0; i < 8; i++) {
            InferenceService.Outcome again = send(i, i + 1, 1, null).get(0);
            assertEquals(first.get(i).result().decision(), again.result().decision(), "reading " + i);
        }
        assertEquals(actions, actions());
        // the next new readings go on from where the first copies left the window
        List<InferenceService.Outcome> rest = send(8, 40, 1, null);
        for (int i = 8; i < 40; i++) {
            assertEquals(v.at("/active/decisions/" + i).asText(), rest.get(i - 8).result().decision());
        }
        assertEquals(alarmStarts(0, 40), actions());
        assertEquals(40, stored("inference-results"));
    }

    /**
     * What a device sending readings 0..99 twice with seqs that never repeat is answered: the decisions, and the
     * number of action requests (a fresh service, the reference for "counted as new readings").
     */
    record Reference(List<String> decisions, long actions) {
    }

    Reference reference() throws Exception {
        List<AuditEvent> events = new CopyOnWriteArrayList<>();
        InferenceService fresh = new InferenceService(device -> List.of(new ReleaseTargets.Target(MODEL, 1, "stable",
                null, "x", 0, List.of(), List.of())), (model, version) -> DemoModels.load("vibration-v1", model,
                version), null, events::add, "gateway", new DynamicBatcher.Settings(32, 500, 4096, 64),
                new InferenceMetrics(), clock);
        List<String> decisions = new ArrayList<>();
        try {
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < 100; i++) {
                    LinkedBlockingQueue<InferenceService.Outcome> a = new LinkedBlockingQueue<>();
                    fresh.submit("sensor-1", new InferenceService.Reading(pass * 1000 + i, null,
                            DemoModels.row(v.get("features"), i), null), a::add);
                    decisions.add(a.poll(10, TimeUnit.SECONDS).result().decision());
                }
            }
        } finally {
            fresh.close();
        }
        return new Reference(decisions, events.stream().filter(e -> e.type().equals(AuditEvent.ACTION_DECISION))
                .count());
    }

    static List<String> decisions(List<InferenceService.Outcome> outcomes) {
        return outcomes.stream().map(o -> o.result().decision()).toList();
    }

    @Test
    void aDeviceRestartingItsSeqWithNewReadingsIsCountedAsNewReadingsEvenWithinTheHorizon() throws Exception {
        List<InferenceService.Outcome> all = new ArrayList<>(send(0, 100, 1, "2026-11-27T05:00:00Z"));
        clock.advance(Duration.ofSeconds(30));
        // the device restarts and counts from 0 again: same seqs, but other readings (another ts)
        all.addAll(send(0, 100, 1, "2026-11-27T05:00:30Z"));

        Reference ref = reference();
        assertEquals(ref.decisions(), decisions(all));
        assertEquals(ref.actions(), actions());
        assertEquals(0, metrics.repeats(MODEL));
        assertEquals(200, stored("sensor-readings"));
    }

    @Test
    void theSameSeqAndFeaturesAfterTheTenMinuteHorizonIsANewReading() throws Exception {
        List<InferenceService.Outcome> all = new ArrayList<>(send(0, 100, 1, null));
        clock.advance(RecentReadings.HORIZON.plusSeconds(1));
        all.addAll(send(0, 100, 1, null));

        Reference ref = reference();
        assertEquals(ref.decisions(), decisions(all));
        assertEquals(ref.actions(), actions());
        assertEquals(0, metrics.repeats(MODEL));
    }

    @Test
    void memoryPerDeviceAndModelIsBoundedAndTheOldestReadingIsForgottenFirst() {
        RecentReadings r = new RecentReadings();
        long now = clock.millis();
        for (long seq = 0; seq < 3 * RecentReadings.CAPACITY; seq++) {
            assertEquals(RecentReadings.Claim.FIRST, r.claim(seq, seq, now));
            r.decided(seq, seq, "normal");
        }
        assertEquals(RecentReadings.CAPACITY, r.size());
        long newest = 3L * RecentReadings.CAPACITY - 1;
        assertEquals(RecentReadings.Claim.REPEAT, r.claim(newest, newest, now));
        assertEquals(RecentReadings.Claim.REPEAT, r.claim(newest - RecentReadings.CAPACITY + 1,
                newest - RecentReadings.CAPACITY + 1, now));
        assertEquals(RecentReadings.Claim.FIRST, r.claim(0, 0, now), "forgotten: beyond the capacity");
    }

    @Test
    void aCopyOfAReadingThatWasShedIsRunInFull() {
        RecentReadings r = new RecentReadings();
        long now = clock.millis();
        assertEquals(RecentReadings.Claim.FIRST, r.claim(7, 42, now));
        r.failed(7, 42);
        assertEquals(RecentReadings.Claim.FIRST, r.claim(7, 42, now));
        assertEquals(RecentReadings.Claim.REPEAT, r.claim(7, 42, now));
        assertEquals(RecentReadings.Replay.Kind.CURRENT, r.replay(7, 42).kind(), "first copy still queued");
        r.decided(7, 42, "alarm");
        assertEquals(new RecentReadings.Replay(RecentReadings.Replay.Kind.DECIDED, "alarm"), r.replay(7, 42));
    }
}
