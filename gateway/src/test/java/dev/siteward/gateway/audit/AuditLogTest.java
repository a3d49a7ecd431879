package dev.siteward.gateway.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.TestDatabases;
import dev.siteward.gateway.store.TestDatabases.Kind;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The audit log on H2 and PostgreSQL: chaining, tamper detection at the right position, checkpoints, purge. */
class AuditLogTest {

    @TempDir
    Path dir;
    MutableClock clock;
    TestPki pki;
    GatewayStore store;
    AuditLog log;

    AuditLog open(Kind kind, AuditSettings settings) throws Exception {
        clock = MutableClock.atSystemTime();
        pki = TestPki.create(dir.resolve("data"), clock);
        store = TestDatabases.open(kind, dir.resolve("data"));
        log = newLog(settings);
        return log;
    }

    AuditLog newLog(AuditSettings settings) {
        return new AuditLog(store, dir.resolve("data"), clock, settings,
                () -> AuditKey.ensure(dir.resolve("data"), pki.ca(), clock), pki.root());
    }

    AuditLog open(Kind kind) throws Exception {
        return open(kind, new AuditSettings(4, Duration.ofMinutes(10), null));
    }

    @AfterEach
    void tearDown() {
        if (log != null) {
            log.close();
        }
        if (store != null) {
            store.close();
            TestDatabases.drop(store);
        }
        if (pki != null) {
            pki.close();
        }
    }

    int counter;

    void appendMany(int n) throws Exception {
        for (int k = 0; k < n; k++) {
            int i = ++counter;
            log.append(AuditEvent.of(AuditEvent.ENROLLMENT).actor("device/d" + i).subject("device/d" + i)
                    .detail("serial", "0a" + i).detail("n", i).build());
            clock.advance(Duration.ofSeconds(1));
        }
    }

    void sql(String... statements) throws Exception {
        try (Connection c = store.connection(); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.executeUpdate(s);
            }
        }
    }

    static void assertProblem(AuditVerification v, long position, String words) {
        assertFalse(v.intact(), "expected a problem, got: " + v.summary());
        assertEquals(position, v.position(), v.problem());
        assertTrue(v.problem().contains(words), v.problem());
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void appendedRecordsFormAChainThatVerifies(Kind kind) throws Exception {
        open(kind);
        appendMany(10);
        AuditVerification v = log.verify();
        assertTrue(v.intact(), v.summary());
        assertEquals(1, v.firstSeq());
        assertEquals(10, v.lastSeq());
        assertEquals(10, v.headSeq());
        assertEquals(2, v.checkpoints(), v.summary()); // at 4 and 8
        assertTrue(v.summary().startsWith("audit log intact: records 1..10 (10)"), v.summary());
        assertTrue(Files.readString(dir.resolve("data").resolve(AuditLog.HEAD_FILE)).contains("\"seq\" : 10"));
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void anUpdatedRowIsReportedAtItsSequenceNumber(Kind kind) throws Exception {
        open(kind);
        appendMany(10);
        sql("UPDATE audit_records SET actor = 'admin/mallory' WHERE seq = 6");
        assertProblem(log.verify(), 6, "record 6 changed");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void anUpdatedRowWithARecomputedHashIsReportedAtItsSequenceNumber(Kind kind) throws Exception {
        open(kind);
        appendMany(10);
        AuditRecord r;
        try (Connection c = store.connection(); PreparedStatement ps = c.prepareStatement(
                "SELECT recorded_at, type, subject, details, prev_hash FROM audit_records WHERE seq = 6");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            r = AuditRecord.create(6, rs.getObject(1, OffsetDateTime.class).toInstant(), rs.getString(2),
                    "admin/mallory", rs.getString(3), rs.getString(4), rs.getString(5));
        }
        sql("UPDATE audit_records SET actor = 'admin/mallory', hash = '" + r.hash() + "' WHERE seq = 6");
        assertProblem(log.verify(), 6, "record 6 changed");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void aDeletedRowIsReportedAsRemoved(Kind kind) throws Exception {
        open(kind);
        appendMany(10);
        sql("DELETE FROM audit_records WHERE seq = 3");
        assertProblem(log.verify(), 3, "record 3 removed");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void swappedRowsAreReportedAsOutOfPlace(Kind kind) throws Exception {
        open(kind);
        appendMany(10);
        sql("UPDATE audit_records SET seq = 1000 WHERE seq = 6",
                "UPDATE audit_records SET seq = 6 WHERE seq = 7",
                "UPDATE audit_records SET seq = 7 WHERE seq = 1000");
        assertProblem(log.verify(), 6, "record 6 is out of place: it holds record 7");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void aTruncatedTailIsReportedFromItsFirstMissingRecord(Kind kind) throws Exception {
        open(kind);
        appendMany(10);
        sql("DELETE FROM audit_records WHERE seq > 7", "DELETE FROM audit_checkpoints WHERE seq > 7",
                "UPDATE audit_state SET last_seq = 7");
        assertProblem(log.verify(), 8, "tail missing: records 8..10 removed");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void deletingTheOldestRecordsWithoutAPurgeIsDetected(Kind kind) throws Exception {
        open(kind);
        appendMany(10);
        // a signed checkpoint sits at 4, so the rest of the chain is anchored, but no purge is on record
        sql("DELETE FROM audit_records WHERE seq <= 4");
        assertProblem(log.verify(), 1, "records 1..4 removed");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void aMissingHeadFileIsDetected(Kind kind) throws Exception {
        open(kind);
        appendMany(3);
        Files.delete(log.headFile());
        assertProblem(log.verify(), 0, "head file is missing");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void anOlderHeadFileIsDetected(Kind kind) throws Exception {
        open(kind);
        appendMany(3);
        byte[] old = Files.readAllBytes(log.headFile());
        appendMany(2);
        Files.write(log.headFile(), old);
        assertProblem(log.verify(), 4, "records 4..5 not covered by the signed head file");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void aForgedCheckpointSignatureIsDetected(Kind kind) throws Exception {
        open(kind);
        appendMany(10);
        sql("UPDATE audit_checkpoints SET signed_at = signed_at + INTERVAL '1' SECOND WHERE seq = 4");
        assertProblem(log.verify(), 4, "checkpoint at record 4 is not valid: its signature is invalid");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void aCheckpointSignedByAnotherCaIsRejected(Kind kind) throws Exception {
        open(kind);
        appendMany(5);
        try (TestPki other = pki.otherCa(dir.resolve("other"))) {
            AuditKey foreign = AuditKey.ensure(dir.resolve("other"), other.ca(), clock);
            AuditCheckpoint forged = AuditCheckpoint.sign(AuditCheckpoint.CHECKPOINT, 4, "00", clock.instant(),
                    foreign);
            sql("UPDATE audit_checkpoints SET signature = '" + forged.signature() + "', certificates = '"
                    + forged.certificates() + "' WHERE seq = 4");
        }
        assertProblem(log.verify(), 4, "does not chain to the site root");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void aRewrittenTailIsCaughtByTheSignedHead(Kind kind) throws Exception {
        open(kind, new AuditSettings(1000, Duration.ofDays(1), null));
        appendMany(5);
        // rewrite records 3..5 consistently (content and hashes): only the signatures can tell
        List<AuditRecord> rows = new ArrayList<>();
        try (Connection c = store.connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT seq, recorded_at, type, subject, details, prev_hash FROM "
                     + "audit_records WHERE seq >= 2 ORDER BY seq")) {
            String prev = null;
            while (rs.next()) {
                AuditRecord r = AuditRecord.create(rs.getLong(1), rs.getObject(2, OffsetDateTime.class).toInstant(),
                        rs.getString(3), rs.getLong(1) >= 3 ? "admin/mallory" : "device/d2", rs.getString(4),
                        rs.getString(5), prev == null ? rs.getString(6) : prev);
                prev = r.hash();
                rows.add(r);
            }
        }
        for (AuditRecord r : rows) {
            sql("UPDATE audit_records SET actor = '" + r.actor() + "', prev_hash = '" + r.prevHash() + "', hash = '"
                    + r.hash() + "' WHERE seq = " + r.seq());
        }
        assertProblem(log.verify(), 5, "record 5 changed: it does not match the signed head file");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void concurrentAppendsNeverForkTheChain(Kind kind) throws Exception {
        open(kind, new AuditSettings(50, Duration.ofMinutes(10), null));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<Long>> seqs = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            int n = i;
            seqs.add(pool.submit(() -> log.append(AuditEvent.of(AuditEvent.ADMIN_CALL).actor("admin/a")
                    .detail("n", n).build())));
        }
        List<Long> got = new ArrayList<>();
        for (Future<Long> f : seqs) {
            got.add(f.get());
        }
        pool.shutdown();
        Collections.sort(got);
        for (int i = 0; i < 200; i++) {
            assertEquals(i + 1, got.get(i));
        }
        AuditVerification v = log.verify();
        assertTrue(v.intact(), v.summary());
        assertEquals(200, v.headSeq());
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void aCheckpointIsSignedWhenTheIntervalHasPassed(Kind kind) throws Exception {
        open(kind, new AuditSettings(1000, Duration.ofMinutes(10), null));
        appendMany(3);
        assertEquals(0, log.verify().checkpoints());
        clock.advance(Duration.ofMinutes(10));
        appendMany(1);
        assertEquals(1, log.verify().checkpoints());
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void purgingKeepsTheRestVerifiableFromTheCheckpointAtTheCut(Kind kind) throws Exception {
        open(kind, new AuditSettings(1000, Duration.ofDays(1), null));
        appendMany(10);
        AuditLog.PurgeReceipt receipt = log.purgeBefore(7);
        assertEquals(1, receipt.from());
        assertEquals(6, receipt.to());
        assertEquals(6, receipt.count());
        assertEquals(11, receipt.receiptSeq());
        AuditVerification v = log.verify();
        assertTrue(v.intact(), v.summary());
        assertEquals(7, v.firstSeq());
        assertEquals(11, v.lastSeq());
        try (Connection c = store.connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT MIN(seq) FROM audit_checkpoints")) {
            rs.next();
            assertEquals(6, rs.getLong(1));
        }
        // more than the purge took, removed by hand, is still caught
        sql("DELETE FROM audit_records WHERE seq = 7");
        assertProblem(log.verify(), 7, "record 7 removed");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void deletingPastThePurgeCutAtACheckpointIsDetected(Kind kind) throws Exception {
        open(kind, new AuditSettings(2, Duration.ofDays(1), null));
        appendMany(10);
        log.purgeBefore(3);
        sql("DELETE FROM audit_records WHERE seq < 5"); // a checkpoint sits at 4
        assertProblem(log.verify(), 3, "records 3..4 removed: the last recorded purge kept record 3");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void purgeRefusesToPurgeTheWholeLogOrATamperedOne(Kind kind) throws Exception {
        open(kind);
        appendMany(5);
        assertThrows(GatewayException.class, () -> log.purgeBefore(6));
        sql("UPDATE audit_records SET subject = 'x' WHERE seq = 2");
        GatewayException e = assertThrows(GatewayException.class, () -> log.purgeBefore(4));
        assertTrue(e.getMessage().contains("record 2"), e.getMessage());
        try (Connection c = store.connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM audit_records")) {
            rs.next();
            assertEquals(5, rs.getLong(1));
        }
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void startUpRecordsAndResealsAHeadFileLeftBehindTheLog(Kind kind) throws Exception {
        open(kind);
        appendMany(3);
        byte[] old = Files.readAllBytes(log.headFile());
        appendMany(2);
        Files.write(log.headFile(), old); // as if killed between the commit and the head write
        AuditLog restarted = newLog(new AuditSettings(4, Duration.ofMinutes(10), null));
        restarted.recover();
        AuditVerification v = restarted.verify();
        assertTrue(v.intact(), v.summary());
        assertEquals(6, v.lastSeq());
        assertEquals(1, v.recoveries());
        restarted.close();
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void anExportVerifiesOnItsOwnWithTheRootAlone(Kind kind) throws Exception {
        open(kind);
        appendMany(6);
        Instant since = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        appendMany(4);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long n = log.export(since, out);
        String ndjson = out.toString(StandardCharsets.UTF_8);
        assertEquals(6, n); // records 5..10: from the checkpoint at 4 on
        assertTrue(ndjson.lines().findFirst().orElseThrow().contains("\"kind\":\"checkpoint\""));
        AuditVerification v = AuditExport.verify(new java.io.ByteArrayInputStream(out.toByteArray()), pki.root());
        assertTrue(v.intact(), v.summary());
        String tampered = ndjson.replace("device/d8", "device/d9");
        AuditVerification bad = AuditExport.verify(new java.io.ByteArrayInputStream(
                tampered.getBytes(StandardCharsets.UTF_8)), pki.root());
        assertProblem(bad, 8, "record 8 changed");
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void withAHeadDelayAppendsReturnAtCommitAndCloseSealsTheLast(Kind kind) throws Exception {
        open(kind, new AuditSettings(10, Duration.ofMinutes(10), null, Duration.ofMillis(20)));
        appendMany(30);
        log.close();
        AuditLog reopened = newLog(AuditSettings.defaults());
        AuditVerification v = reopened.verify();
        assertTrue(v.intact(), v.summary());
        assertEquals(30, v.headSeq());
        log = reopened;
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void aHeadFileSinkReceivesEverySignedHead(Kind kind) throws Exception {
        Path sink = dir.resolve("remote/head-copy.json");
        Files.createDirectories(sink.getParent());
        open(kind, new AuditSettings(10, Duration.ofMinutes(10), sink.toString()));
        appendMany(3);
        log.close(); // waits for the sink's pushes
        assertEquals(Files.readString(log.headFile()), Files.readString(sink));
        log = null;
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void theAuditCertificateIsRenewedWhileTheLogRunsAndOldAndNewCheckpointsVerify(Kind kind) throws Exception {
        open(kind);
        appendMany(4);
        java.security.cert.X509Certificate first = AuditKey.ensure(dir.resolve("data"), pki.ca(), clock).chain()
                .get(0);
        Duration life = Duration.between(first.getNotBefore().toInstant(), first.getNotAfter().toInstant());
        clock.advance(life.multipliedBy(7).dividedBy(10).minus(Duration.between(first.getNotBefore().toInstant(),
                clock.instant())));
        appendMany(4);
        java.security.cert.X509Certificate now = dev.siteward.pki.PemCodec.parseCertificates(
                Files.readString(dir.resolve("data/gateway/audit.pem"))).get(0);
        assertTrue(!now.equals(first) && now.getNotAfter().after(first.getNotAfter()),
                "re-issued without a restart: " + now.getSerialNumber().toString(16));
        try (Connection c = store.connection(); Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT certificates FROM audit_checkpoints ORDER BY seq")) {
            java.util.Set<String> chains = new java.util.HashSet<>();
            while (rs.next()) {
                chains.add(rs.getString(1));
            }
            assertEquals(2, chains.size(), "checkpoints before and after the renewal carry different certificates");
        }
        AuditVerification v = log.verify();
        assertTrue(v.intact(), v.summary());
    }
}
