package dev.siteward.gateway.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.gateway.audit.AuditTrail;
import dev.siteward.gateway.models.ReleaseTargets;
import dev.siteward.gateway.retention.DataExport;
import dev.siteward.gateway.retention.DataRecords;
import dev.siteward.gateway.retention.MinimisationKey;
import dev.siteward.gateway.retention.RetentionSettings;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.TestDatabases;
import dev.siteward.gateway.store.TestDatabases.Kind;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.policies.PolicyLoader;
import dev.siteward.policies.SiteConfig;
import dev.siteward.policies.retention.DataClass;
import dev.siteward.policies.retention.RetentionRules;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Served readings and results stored under the retention rules, on H2 and PostgreSQL. */
class InferenceRecordsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "demo/vibration";
    private static final String RETAINS_BOTH = """
            schemaVersion: 1
            rules: []
            retention:
              classes:
                sensor-readings:
                  fields: [seq, ts, features, model]
                  maxAge: 30d
                  minimise:
                    drop: [ts]
                    hash: [model]
                inference-results:
                  fields: [seq, model, version, outputs, score, decision]
                  maxAge: 30d
                  export:
                    fields: [seq, model, version, score, decision]
            """;
    private static final String RETAINS_NEITHER = """
            schemaVersion: 1
            rules: []
            retention:
              classes:
                device-logs:
                  fields: [message]
            """;

    @TempDir
    Path dir;
    final MutableClock clock = MutableClock.atSystemTime();
    final AtomicReference<RetentionRules> rules = new AtomicReference<>();
    GatewayStore store;
    DataRecords data;
    MinimisationKey key;
    InferenceService service;
    InferenceRecords records;

    void open(Kind kind, String policy, int queue) throws Exception {
        Path data = dir.resolve("data");
        store = TestDatabases.open(kind, data);
        Path p = Files.createDirectories(dir.resolve("policy"));
        Files.writeString(p.resolve("retention.yaml"), policy);
        rules.set(PolicyLoader.load(p, SiteConfig.DEFAULTS).retention());
        key = MinimisationKey.ensure(data);
        this.data = new DataRecords(store, rules::get, key, clock,
                RetentionSettings.defaults());
        service = new InferenceService(device -> List.of(new ReleaseTargets.Target(MODEL, 1, "stable", null, "x", 0,
                List.of(), List.of())), (model, version) -> DemoModels.load("vibration-v1", model, version), null,
                AuditTrail.NONE, "gateway", new DynamicBatcher.Settings(32, 500, 4096, 4096), new InferenceMetrics(),
                clock);
        records = new InferenceRecords(this.data, queue, 500);
        service.records(records);
    }

    @AfterEach
    void close() {
        if (service != null) {
            service.close();
        }
        if (store != null) {
            store.close();
            TestDatabases.drop(store);
        }
    }

    List<InferenceService.Outcome> run(JsonNode v, int n) throws Exception {
        CountDownLatch done = new CountDownLatch(n);
        List<InferenceService.Outcome> out = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < n; i++) {
            service.submit("sensor-" + (i % 4), new InferenceService.Reading(i, "2026-11-27T00:00:00Z",
                    DemoModels.row(v.get("features"), i), null), o -> {
                        out.add(o);
                        done.countDown();
                    });
        }
        assertTrue(done.await(20, TimeUnit.SECONDS));
        return out;
    }

    List<JsonNode> stored(String dataClass) throws Exception {
        return store.inTransaction(c -> {
            List<JsonNode> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT device, body FROM data_records WHERE "
                    + "data_class = ?")) {
                ps.setString(1, dataClass);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        JsonNode body = JSON.readTree(new String(rs.getBytes(2), StandardCharsets.UTF_8));
                        ((com.fasterxml.jackson.databind.node.ObjectNode) body).put("_device", rs.getString(1));
                        out.add(body);
                    }
                }
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
            return out;
        });
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void readingsAndResultsAreStoredMinimisedAndOnlyWithTheirDeclaredFields(Kind kind) throws Exception {
        open(kind, RETAINS_BOTH, 10_000);
        JsonNode v = DemoModels.vectors("vibration").get("v1");
        Instant since = clock.instant();
        List<InferenceService.Outcome> outcomes = run(v, 64);
        assertTrue(outcomes.stream().allMatch(o -> o.result() != null));
        assertTrue(records.drain(10, TimeUnit.SECONDS));

        List<JsonNode> readings = stored("sensor-readings");
        List<JsonNode> results = stored("inference-results");
        assertEquals(64, readings.size());
        assertEquals(64, results.size());
        for (JsonNode r : readings) {
            int seq = r.get("seq").asInt();
            assertFalse(r.has("ts"), "ts is dropped by the rule: " + r);
            assertEquals(key.hash(MODEL), r.get("model").asText(), "model is hashed by the rule");
            assertEquals("sensor-" + (seq % 4), r.get("_device").asText());
            assertEquals(v.at("/features/" + seq + "/0").asDouble(), r.at("/features/0").asDouble());
        }
        for (JsonNode r : results) {
            int seq = r.get("seq").asInt();
            assertFalse(r.has("latency_ms"), "latency_ms is not declared: " + r);
            assertEquals(1, r.get("version").asLong());
            assertEquals(v.at("/anomaly/" + seq).asDouble(), r.get("score").asDouble(), 1e-5);
            assertEquals(v.at("/anomaly/" + seq).asDouble(), r.at("/outputs/anomaly").asDouble(), 1e-5);
            assertTrue(r.get("decision").isTextual());
        }
        assertEquals(64, records.stored(DataClass.INFERENCE_RESULTS));
        assertEquals(0, records.dropped());
        assertTrue(records.prometheus().contains("siteward_inference_stored_total{class=\"inference-results\"} 64"));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(64, new DataExport(store, rules::get).export("inference-results", since, out));
        JsonNode line = JSON.readTree(out.toString(StandardCharsets.UTF_8).lines().findFirst().orElseThrow());
        assertFalse(line.get("record").has("outputs"), "outputs is not exported: " + line);
        assertTrue(line.get("record").has("score"), line.toString());
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void withoutARuleNothingIsStoredAndInferenceStillAnswers(Kind kind) throws Exception {
        open(kind, RETAINS_NEITHER, 10_000);
        JsonNode v = DemoModels.vectors("vibration").get("v1");
        List<InferenceService.Outcome> outcomes = run(v, 16);
        assertEquals(16, outcomes.stream().filter(o -> o.result() != null).count());
        assertTrue(records.drain(10, TimeUnit.SECONDS));
        assertEquals(0, stored("sensor-readings").size());
        assertEquals(0, stored("inference-results").size());
        assertEquals(0, records.dropped());
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void aFullStoreQueueDropsAndCountsWithoutSlowingInference(Kind kind) throws Exception {
        open(kind, RETAINS_BOTH, 4);
        JsonNode v = DemoModels.vectors("vibration").get("v1");
        AtomicInteger answered = new AtomicInteger();
        InferenceService.Result result = run(v, 1).get(0).result();
        assertNotNull(result);
        InferenceService.Reading reading = new InferenceService.Reading(0, null,
                DemoModels.row(v.get("features"), 0), null);
        for (int i = 0; i < 2_000; i++) {
            records.served("sensor-0", reading, result, 0.5);
            answered.incrementAndGet();
        }
        assertTrue(records.drain(20, TimeUnit.SECONDS));
        long kept = stored("sensor-readings").size() + stored("inference-results").size();
        assertTrue(records.dropped() > 0, "the bounded queue dropped records");
        assertEquals(2 + 2 * 2_000, kept + records.dropped(), "every record stored or counted as dropped");
        assertTrue(records.prometheus().contains("siteward_inference_store_dropped_total " + records.dropped()));
    }
}
