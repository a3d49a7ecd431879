package dev.siteward.gateway.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.authorization.DecisionLog;
import dev.siteward.policies.AccessRequest;
import dev.siteward.policies.Effect;
import dev.siteward.policies.Resource;
import dev.siteward.policies.Subject;
import dev.siteward.policies.SubjectKind;
import java.util.Set;
import dev.siteward.gateway.audit.AuditKey;
import dev.siteward.gateway.audit.AuditLog;
import dev.siteward.gateway.audit.AuditSettings;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.TestDatabases;
import dev.siteward.gateway.store.TestDatabases.Kind;
import dev.siteward.gateway.time.TimeGuard;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import dev.siteward.policies.PolicyLoader;
import dev.siteward.policies.SiteConfig;
import dev.siteward.policies.retention.RetentionRules;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Retention on H2 and PostgreSQL with an injected clock: expiry, size caps, holds, minimisation, export, receipts. */
class RetentionTest {

    private static final String RULES = """
            schemaVersion: 1
            rules: []
            retention:
              classes:
                sensor-readings:
                  fields: [sensor, value, operator, location]
                  maxAge: 1h
                  minimise:
                    drop: [location]
                    hash: [operator]
                  export:
                    fields: [sensor, value, operator]
                inference-results:
                  fields: [label, score]
                  export:
                    fields: [score]
                    aggregatesOnly: true
                    aggregateEvery: 1h
                device-logs:
                  fields: [message]
                  maxSize: 1KB
                blobs:
                  maxAge: 1d
                  maxBlobSize: 1KiB
                audit-records:
                  fields: [type]
                  maxAge: 30d
            """;

    @TempDir
    Path dir;
    MutableClock clock;
    AtomicLong nanos = new AtomicLong(1_000_000_000L);
    TestPki pki;
    GatewayStore store;
    AuditLog audit;
    TimeGuard guard;
    final AtomicReference<RetentionRules> rules = new AtomicReference<>();
    final Map<String, Map<String, String>> labels = new HashMap<>();
    DataRecords data;
    RetentionPurge purge;
    DataExport export;
    MinimisationKey key;

    void open(Kind kind) throws Exception {
        open(kind, RULES, 3);
    }

    void open(Kind kind, String policy, int batch) throws Exception {
        clock = MutableClock.atSystemTime();
        Path data = dir.resolve("data");
        pki = TestPki.create(data, clock);
        store = TestDatabases.open(kind, data);
        audit = new AuditLog(store, data, clock, AuditSettings.defaults(),
                () -> AuditKey.ensure(data, pki.ca(), clock), pki.root());
        guard = TimeGuard.open(data, clock, nanos::get, Duration.ofMinutes(5));
        setRules(policy);
        key = MinimisationKey.ensure(data);
        this.data = new DataRecords(store, rules::get, key, clock, RetentionSettings.defaults());
        purge = new RetentionPurge(store, rules::get, () -> labels, audit, RetentionServices.clockTrust(guard),
                clock, batch);
        export = new DataExport(store, rules::get);
    }

    void setRules(String policy) throws Exception {
        Path p = dir.resolve("policy-" + System.nanoTime());
        Files.createDirectories(p);
        Files.writeString(p.resolve("retention.yaml"), policy);
        rules.set(PolicyLoader.load(p, SiteConfig.DEFAULTS).retention());
    }

    @AfterEach
    void tearDown() {
        if (audit != null) {
            audit.close();
        }
        if (guard != null) {
            guard.close();
        }
        if (store != null) {
            store.close();
            TestDatabases.drop(store);
        }
        if (pki != null) {
            pki.close();
        }
    }

    /** Wall clock and monotonic clock move together (normal time passing). */
    void pass(Duration d) throws Exception {
        clock.advance(d);
        nanos.addAndGet(d.toNanos());
        guard.tick();
    }

    String reading(String sensor, double value) {
        return "{\"sensor\":\"" + sensor + "\",\"value\":" + value + ",\"operator\":\"alice\",\"location\":\"52.1,13.4\"}";
    }

    List<String> ids(String cls) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = store.connection(); PreparedStatement ps = c.prepareStatement(
                "SELECT id FROM data_records WHERE data_class = ? ORDER BY recorded_at, id")) {
            ps.setString(1, cls);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void recordsExpireExactlyWhenTheyReachTheirMaximumAge(Kind kind) throws Exception {
        open(kind);
        String first = data.ingestRecords("sensor-readings", "s1", reading("t1", 1).getBytes()).ids().get(0);
        pass(Duration.ofMinutes(10));
        String second = data.ingestRecords("sensor-readings", "s1", reading("t1", 2).getBytes()).ids().get(0);
        pass(Duration.ofMinutes(50).minusMillis(1));
        assertEquals(0, purge.run().deleted(), "one millisecond before its hour, the first record stays");
        assertEquals(List.of(first, second), ids("sensor-readings"));
        pass(Duration.ofMillis(1));
        RetentionPurge.Result r = purge.run();
        assertEquals(1, r.deleted(), "at exactly one hour it goes");
        assertEquals(List.of(second), ids("sensor-readings"));
        pass(Duration.ofMinutes(10).minusMillis(1));
        assertEquals(0, purge.run().deleted());
        pass(Duration.ofMillis(1));
        assertEquals(1, purge.run().deleted());
        assertEquals(List.of(), ids("sensor-readings"));
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void aSizeCapPurgesTheOldestRecordsFirst(Kind kind) throws Exception {
        open(kind);
        List<String> all = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            // {"message":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}: 100 bytes
            String body = "{\"message\":\"" + "x".repeat(86) + "\"}";
            assertEquals(100, body.length());
            all.add(data.ingestRecords("device-logs", "plc-" + i, body.getBytes()).ids().get(0));
            pass(Duration.ofSeconds(1));
        }
        RetentionPurge.Result r = purge.run();
        assertEquals(2, r.deleted(), "1,200 bytes against a 1,000-byte cap: the two oldest go");
        assertEquals(all.subList(2, 12), ids("device-logs"));
        data.ingestRecords("device-logs", "plc-x", ("{\"message\":\"" + "y".repeat(186) + "\"}").getBytes());
        assertEquals(2, purge.run().deleted(), "200 bytes over: the next two oldest go, not the new one");
        assertEquals(all.subList(4, 12), ids("device-logs").subList(0, 8));
        assertEquals(0, purge.run().deleted(), "under the cap now");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void legalHoldsByDeviceLabelAndTimeRangeStopDeletion(Kind kind) throws Exception {
        open(kind);
        labels.put("s-line2", Map.of("line", "line-2"));
        Instant start = clock.instant();
        String byDevice = data.ingestRecords("sensor-readings", "s-held", reading("a", 1).getBytes()).ids().get(0);
        String byLabel = data.ingestRecords("sensor-readings", "s-line2", reading("a", 1).getBytes()).ids().get(0);
        String free = data.ingestRecords("sensor-readings", "s-free", reading("a", 1).getBytes()).ids().get(0);
        pass(Duration.ofMinutes(30));
        String inRange = data.ingestRecords("sensor-readings", "s-free", reading("a", 1).getBytes()).ids().get(0);
        pass(Duration.ofMinutes(1));
        setRules(RULES + """
                  holds:
                    - id: case-1
                      reason: device under investigation
                      devices: [s-held]
                    - id: case-2
                      reason: line 2 incident
                      classes: [sensor-readings]
                      deviceLabels: {line: line-2}
                    - id: case-3
                      reason: the half hour after the start
                      since: "%s"
                      until: "%s"
                """.formatted(start.plus(Duration.ofMinutes(20)), start.plus(Duration.ofMinutes(40))));
        pass(Duration.ofHours(2));
        RetentionPurge.Result r = purge.run();
        assertEquals(1, r.deleted());
        List<String> left = ids("sensor-readings");
        assertTrue(left.containsAll(List.of(byDevice, byLabel, inRange)), left.toString());
        assertFalse(left.contains(free));
        setRules(RULES);
        assertEquals(3, purge.run().deleted(), "holds lifted: the rest goes");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void droppedAndHashedFieldsNeverReachTheDatabase(Kind kind) throws Exception {
        open(kind);
        data.ingestRecords("sensor-readings", "s1", ("[" + reading("t1", 1) + "," + reading("t2", 2) + "]")
                .getBytes());
        GatewayException e = assertThrows(GatewayException.class, () -> data.ingestRecords("sensor-readings", "s1",
                "[{\"sensor\":\"t3\",\"value\":3},{\"sensor\":\"t4\",\"gps\":\"52.1,13.4\"}]".getBytes()));
        assertEquals("data.unknown_field", e.reason().code());
        List<String> bodies = new ArrayList<>();
        try (Connection c = store.connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT body FROM data_records")) {
            while (rs.next()) {
                bodies.add(new String(rs.getBytes(1), StandardCharsets.UTF_8));
            }
        }
        assertEquals(2, bodies.size(), "the refused request stored nothing, not even its good record");
        for (String b : bodies) {
            assertFalse(b.contains("location"), b);
            assertFalse(b.contains("52.1"), b);
            assertFalse(b.contains("alice"), b);
            assertTrue(b.contains("\"operator\":\"" + key.hash("alice") + "\""), b);
        }
        Path keyFile = dir.resolve("data").resolve(MinimisationKey.FILE);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
        assertEquals("data.not_retained", assertThrows(GatewayException.class, () -> data.ingestRecords(
                "device-reports", "s1", "{}".getBytes())).reason().code(), "no rule for the class: nothing stored");
        assertEquals("data.class_unknown", assertThrows(GatewayException.class, () -> data.ingestRecords(
                "images", "s1", "{}".getBytes())).reason().code());
        assertEquals("data.too_large", assertThrows(GatewayException.class, () -> data.ingestBlob(
                "blobs", "cam-1", "image/jpeg", new byte[1025])).reason().code());
        data.ingestBlob("blobs", "cam-1", "image/jpeg", new byte[1024]);
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void exportWritesOnlyAllowedFieldsAndAggregatesWhereOnlyAggregatesMayLeave(Kind kind) throws Exception {
        open(kind);
        Instant since = clock.instant();
        data.ingestRecords("sensor-readings", "s1", reading("t1", 1.5).getBytes());
        data.ingestRecords("inference-results", "cam-1", ("[{\"label\":\"person\",\"score\":0.5},"
                + "{\"label\":\"forklift\",\"score\":0.9}]").getBytes());
        data.ingestRecords("inference-results", "cam-2", "{\"label\":\"person\",\"score\":0.7}".getBytes());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(1, export.export("sensor-readings", since, out));
        JsonNode line = DataRecords.JSON.readTree(out.toString(StandardCharsets.UTF_8).strip());
        assertEquals("s1", line.get("device").asText());
        assertEquals(3, line.get("record").size(), line.toString());
        assertEquals(1.5, line.get("record").get("value").asDouble());
        assertEquals(key.hash("alice"), line.get("record").get("operator").asText());
        out.reset();
        assertEquals(2, export.export("inference-results", since, out), "one line per device and hour");
        String text = out.toString(StandardCharsets.UTF_8);
        assertFalse(text.contains("person") || text.contains("forklift"), text);
        JsonNode cam1 = DataRecords.JSON.readTree(text.lines().filter(l -> l.contains("cam-1")).findFirst()
                .orElseThrow());
        assertEquals(2, cam1.get("count").asLong());
        assertEquals(0.5, cam1.get("fields").get("score").get("min").asDouble());
        assertEquals(0.9, cam1.get("fields").get("score").get("max").asDouble());
        assertEquals(0.7, cam1.get("fields").get("score").get("mean").asDouble(), 1e-9);
        assertEquals("data.export_denied", assertThrows(GatewayException.class,
                () -> export.export("device-logs", since, new ByteArrayOutputStream())).reason().code());
        assertEquals("data.export_denied", assertThrows(GatewayException.class,
                () -> export.export("audit-records", since, new ByteArrayOutputStream())).reason().code());
        out.reset();
        assertEquals(0, export.export("sensor-readings", clock.instant().plusMillis(1), out), "since filters");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void aForwardClockJumpDeletesNothingUntilAnOperatorConfirmsIt(Kind kind) throws Exception {
        open(kind);
        data.ingestRecords("sensor-readings", "s1", reading("t1", 1).getBytes());
        clock.advance(Duration.ofDays(365));
        nanos.addAndGet(Duration.ofSeconds(1).toNanos());
        guard.tick();
        RetentionPurge.Result r = purge.run();
        assertNotNull(r.skipped());
        assertTrue(r.skipped().contains("jumped forward"), r.skipped());
        assertEquals(1, ids("sensor-readings").size());
        guard.accept("admin/alice");
        assertEquals(1, purge.run().deleted());
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void eachPurgeWritesADeletionReceiptIntoAVerifiableAuditChain(Kind kind) throws Exception {
        open(kind);
        List<String> doomed = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            doomed.addAll(data.ingestRecords("sensor-readings", "s1", reading("t" + i, i).getBytes()).ids());
            pass(Duration.ofSeconds(1));
        }
        pass(Duration.ofHours(1));
        RetentionPurge.Result r = purge.run();
        assertEquals(1, r.classes().size());
        RetentionPurge.ClassPurge p = r.classes().get(0);
        assertEquals(7, p.deleted());
        assertEquals(expectedDigest(doomed, 3), p.digest(), "the chained SHA-256 of the ids, in batches of 3");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        audit.export(Instant.EPOCH, out);
        String receipt = out.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("\"purge\""))
                .findFirst().orElseThrow();
        assertTrue(receipt.contains(p.digest()), receipt);
        assertTrue(receipt.contains("sensor-readings"), receipt);
        assertTrue(audit.verify().intact(), audit.verify().summary());
        RetentionReport.Report report = new RetentionReport(store, rules::get, RetentionServices.clockTrust(guard),
                clock).report();
        RetentionReport.ClassReport readings = report.classes().stream()
                .filter(c -> c.dataClass().equals("sensor-readings")).findFirst().orElseThrow();
        assertEquals(0, readings.records());
        assertEquals(7, readings.lastPurgeDeleted());
        assertFalse(readings.purgeUnfinished());
        assertNull(report.purgePaused());
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void aPurgeCutOffMidRunIsFinishedByTheNextWithOneReceipt(Kind kind) throws Exception {
        open(kind);
        for (int i = 0; i < 5; i++) {
            data.ingestRecords("sensor-readings", "s1", reading("t" + i, i).getBytes());
        }
        pass(Duration.ofHours(2));
        // what a run killed after its first batch leaves: the batch deleted and counted in an unfinished row
        List<String> firstBatch = ids("sensor-readings").subList(0, 2);
        String partial = expectedDigest(firstBatch, 2);
        try (Connection c = store.connection()) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.executeUpdate("DELETE FROM data_records WHERE id IN ('" + String.join("','", firstBatch) + "')");
                st.executeUpdate("INSERT INTO retention_purges (run_id, data_class, started_at, deleted, bytes, "
                        + "digest) VALUES ('cut', 'sensor-readings', CURRENT_TIMESTAMP, 2, 100, '" + partial + "')");
            }
            c.commit();
        }
        assertTrue(new RetentionReport(store, rules::get, Optional::empty, clock).report().classes().stream()
                .anyMatch(RetentionReport.ClassReport::purgeUnfinished));
        RetentionPurge.Result r = purge.run();
        RetentionPurge.ClassPurge p = r.classes().get(0);
        assertEquals("cut", p.runId());
        assertTrue(p.resumed());
        assertEquals(5, p.deleted());
        assertEquals(List.of(), ids("sensor-readings"));
        try (Connection c = store.connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM retention_purges WHERE finished_at IS NULL")) {
            rs.next();
            assertEquals(0, rs.getLong(1));
        }
        assertTrue(audit.verify().intact());
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void oldAuditRecordsArePurgedKeepingTheChainVerifiable(Kind kind) throws Exception {
        open(kind);
        for (int i = 0; i < 5; i++) {
            audit.append(dev.siteward.gateway.audit.AuditEvent.of("admin_call").actor("admin/a").subject("x")
                    .build());
        }
        pass(Duration.ofDays(31));
        audit.append(dev.siteward.gateway.audit.AuditEvent.of("admin_call").actor("admin/a").subject("y").build());
        purge.run();
        assertTrue(audit.verify().intact(), audit.verify().summary());
        assertTrue(audit.oldest().isAfter(clock.instant().minus(Duration.ofDays(30))));
    }

    private static final String DECISION_RULES = """
            schemaVersion: 1
            rules: []
            retention:
              classes:
                action-decisions:
                  fields: [action, effect]
                  maxAge: 30d
              holds:
                - id: valve-incident
                  reason: valve incident under review
                  classes: [action-decisions]
                  devices: [vc-held]
            """;

    private static final String DECISION_SIZE_RULES = """
            schemaVersion: 1
            rules: []
            retention:
              classes:
                action-decisions:
                  fields: [action, effect]
                  maxSize: 1KB
            """;

    /** Records one live decision about {@code subject} the way the action service does, at {@code at}. */
    static void decide(DecisionLog log, String id, String subject, Instant at) throws Exception {
        AccessRequest request = new AccessRequest(new Subject(subject, SubjectKind.DEVICE, Set.of("operator"),
                Map.of("line", "line-2"), null), "valve.open", new Resource("valve-07", "hall-a", Map.of()),
                new dev.siteward.policies.RequestContext("normal"));
        log.record(new DecisionLog.Entry(id, at, request, Effect.ALLOW, List.of("allow-valve"), "allowed by rule", 3,
                "sha256:ab", false, "spiffe://site/device/" + subject, null));
    }

    List<String> decisionIds() throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = store.connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id FROM policy_decisions ORDER BY decided_at, id")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void theGatewaysOwnActionDecisionsExpireByTheActionDecisionsRuleWithHoldsAndAReceipt(Kind kind)
            throws Exception {
        open(kind, DECISION_RULES, 3);
        DecisionLog log = new DecisionLog(store);
        Instant t0 = clock.instant();
        decide(log, "d-old", "vc-01", t0.minus(Duration.ofMinutes(1)));
        decide(log, "d-held", "vc-held", t0.minus(Duration.ofMinutes(1)));
        String posted = data.ingestRecords("action-decisions", "vc-01",
                "{\"action\":\"valve.open\",\"effect\":\"allow\"}".getBytes()).ids().get(0);
        pass(Duration.ofDays(29));
        decide(log, "d-recent", "vc-01", clock.instant());
        pass(Duration.ofDays(1));
        assertEquals(t0.minus(Duration.ofMinutes(1)), new RetentionReport(store, rules::get, Optional::empty, clock)
                .report().classes().stream().filter(c -> c.dataClass().equals("action-decisions")).findFirst()
                .orElseThrow().oldest(), "the report counts the decision log");

        RetentionPurge.Result r = purge.run();

        assertEquals(List.of("d-held", "d-recent"), decisionIds(), "expired decisions go, held ones stay");
        assertEquals(List.of(), ids("action-decisions"));
        RetentionPurge.ClassPurge p = r.classes().get(0);
        assertEquals("action-decisions", p.dataClass());
        assertEquals(2, p.deleted());
        assertEquals(expectedDigest(List.of("d-old", posted), 3), p.digest(), "both tables, oldest first");
        assertTrue(audit.verify().intact(), audit.verify().summary());
        // what 'policy diff --days N' replays: the remaining live decisions, read back whole
        List<DecisionLog.Entry> replay = log.since(t0.minus(Duration.ofDays(1)));
        assertEquals(List.of("d-held", "d-recent"), replay.stream().map(DecisionLog.Entry::id).toList());
        assertEquals("valve.open", replay.get(1).request().action());
        assertEquals(List.of("allow-valve"), replay.get(1).ruleIds());
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void aSizeCapOnActionDecisionsPurgesTheOldestAcrossTheDecisionLogAndPostedRecords(Kind kind) throws Exception {
        open(kind, DECISION_SIZE_RULES, 3);
        DecisionLog log = new DecisionLog(store);
        List<String> order = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            String id = "d-" + (100 + i);
            decide(log, id, "vc-01", clock.instant());
            order.add(id);
            pass(Duration.ofSeconds(1));
            order.addAll(data.ingestRecords("action-decisions", "vc-01",
                    "{\"action\":\"valve.open\",\"effect\":\"deny\"}".getBytes()).ids());
            pass(Duration.ofSeconds(1));
        }
        long before = totals("action-decisions").bytes();
        assertTrue(before > 1000, "over the cap: " + before);

        RetentionPurge.ClassPurge p = purge.run().classes().get(0);

        List<String> left = new ArrayList<>();
        try (Connection c = store.connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id, decided_at FROM policy_decisions UNION ALL "
                     + "SELECT id, recorded_at FROM data_records ORDER BY 2")) {
            while (rs.next()) {
                left.add(rs.getString(1));
            }
        }
        assertEquals(order.subList(order.size() - left.size(), order.size()), left, "the newest remain");
        assertTrue(totals("action-decisions").bytes() <= 1000);
        assertEquals(before - totals("action-decisions").bytes(), p.bytes());
        assertEquals(expectedDigest(order.subList(0, order.size() - left.size()), 3), p.digest());
    }

    private static final String BLOB_RULES = """
            schemaVersion: 1
            rules: []
            retention:
              classes:
                blobs:
                  maxAge: 7d
            """;

    long blobCount() throws Exception {
        try (Connection c = store.connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM data_records WHERE data_class = 'blobs'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void aFiveMebibyteBlobStreamsIntoTheStoreAndOversizedOrShortBodiesStoreNothing(Kind kind) throws Exception {
        open(kind, BLOB_RULES, 3);
        data = new DataRecords(store, rules::get, key, clock, new RetentionSettings(1000, 6L << 20, 64 << 10,
                Duration.ofMinutes(10)));
        byte[] image = new byte[5 << 20];
        new java.security.SecureRandom().nextBytes(image);

        DataRecords.Ingested in = data.ingestBlob("blobs", "cam-1", "image/png",
                new java.io.ByteArrayInputStream(image), image.length);

        assertEquals(image.length, in.bytes());
        try (Connection c = store.connection(); PreparedStatement ps = c.prepareStatement(
                "SELECT body, size_bytes, content_type FROM data_records WHERE id = ?")) {
            ps.setString(1, in.ids().get(0));
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertTrue(java.util.Arrays.equals(image, rs.getBytes(1)), "stored byte for byte");
                assertEquals(image.length, rs.getLong(2));
                assertEquals("image/png", rs.getString(3));
            }
        }
        java.io.InputStream unread = new java.io.InputStream() {
            @Override
            public int read() {
                throw new AssertionError("a declared oversized body is refused before it is read");
            }
        };
        assertEquals("data.too_large", assertThrows(GatewayException.class, () -> data.ingestBlob("blobs", "cam-1",
                "image/png", unread, (6L << 20) + 1)).reason().code());
        assertEquals("request.invalid", assertThrows(GatewayException.class, () -> data.ingestBlob("blobs",
                "cam-1", "image/png", new java.io.ByteArrayInputStream(image, 0, 1000), image.length)).reason()
                .code(), "a body shorter than declared");
        assertEquals("data.too_large", assertThrows(GatewayException.class, () -> data.ingestBlob("blobs", "cam-1",
                "image/png", new java.io.ByteArrayInputStream(image), -1)).reason().code(),
                "without Content-Length at most 1 MiB");
        data.ingestBlob("blobs", "cam-1", "image/png", new java.io.ByteArrayInputStream(image, 0, 1 << 20), -1);
        assertEquals(2, blobCount(), "the refused uploads stored nothing");
    }

    RetentionPurge.Totals totals(String cls) throws Exception {
        try (Connection c = store.connection()) {
            return RetentionPurge.totals(c, dev.siteward.policies.retention.DataClass.byId(cls).orElseThrow());
        }
    }

    /** The digest the purge chains over batches of ids: SHA-256(previous hex + "\n" + id + "\n" ...). */
    static String expectedDigest(List<String> ids, int batch) throws Exception {
        String d = RetentionPurge.ZERO_DIGEST;
        for (int from = 0; from < ids.size(); from += batch) {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            md.update((d + "\n").getBytes(StandardCharsets.US_ASCII));
            for (String id : ids.subList(from, Math.min(ids.size(), from + batch))) {
                md.update((id + "\n").getBytes(StandardCharsets.US_ASCII));
            }
            d = java.util.HexFormat.of().formatHex(md.digest());
        }
        return d;
    }
}
