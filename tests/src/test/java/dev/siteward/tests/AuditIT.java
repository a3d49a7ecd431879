package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.tests.Processes.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit log with the real gateway jar: enrollments, revocations and admin calls land in it; {@code siteward
 * audit verify} passes through the running gateway and locally, and names the position of every kind of SQL
 * tampering; an export verifies elsewhere with the root alone; {@code kill -9} during appends leaves a chain that
 * verifies (the restart records and re-seals a head left behind); PostgreSQL works as the gateway's store.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AuditIT {

    private static final Map<String, String> ENV = Map.of("SITEWARD_CA_PASSPHRASE", "audit test passphrase");

    @TempDir
    static Path work;

    @BeforeAll
    static void tools() {
        Tools.require("openssl", "openssl");
        Tools.require("curl", "curl");
    }

    private static Path data() {
        return work.resolve("data");
    }

    private static void enroll(GatewayProcess gw, String device) throws Exception {
        String token = gw.token(device, null);
        Path der = work.resolve(device + ".der");
        Result r = Processes.run(work, Map.of(), List.of("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", work.resolve(device + ".key").toString(), "-subj",
                "/CN=" + device, "-outform", "DER", "-out", der.toString()));
        assertEquals(0, r.exitCode(), r.both());
        Path b64 = work.resolve(device + ".b64");
        Files.writeString(b64, Base64.getEncoder().encodeToString(Files.readAllBytes(der)));
        r = Processes.run(work, Map.of(), List.of("curl", "-sS", "-o", work.resolve(device + ".out").toString(),
                "-w", "%{http_code}", "--cacert", gw.dataDir().resolve("admin/root.pem").toString(), "-H",
                "Content-Type: application/pkcs10", "-H", "Authorization: Bearer " + token, "--data-binary",
                "@" + b64, gw.enrollUrl() + "/.well-known/est/simpleenroll"));
        assertEquals("200", r.stdout(), r.both());
    }

    private static Result cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--data-dir");
        all.add(data().toString());
        return Processes.run(work, ENV, Processes.siteward(all.toArray(new String[0])));
    }

    private static void sql(String... statements) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:h2:file:" + data().resolve("db/siteward")
                .toAbsolutePath(), "siteward", ""); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.executeUpdate(s);
            }
        }
    }

    private static long lastSeq(Result verify) {
        Matcher m = Pattern.compile("records \\d+\\.\\.(\\d+) ").matcher(verify.stdout());
        assertTrue(m.find(), verify.both());
        return Long.parseLong(m.group(1));
    }

    @Test
    @Order(1)
    void gatewayEventsAreRecordedAndVerifyThroughTheRunningGatewayAndFromAnExport() throws Exception {
        try (GatewayProcess gw = GatewayProcess.start(data(), ENV)) {
            enroll(gw, "pump-1");
            enroll(gw, "pump-2");
            assertEquals(200, gw.admin("POST", "devices/pump-1/suspend", "{}").statusCode());
            assertEquals(200, gw.admin("POST", "devices/pump-1/resume", "{}").statusCode());
            assertEquals(200, gw.admin("POST", "devices/pump-2/revoke", "{\"reason\":\"keyCompromise\"}")
                    .statusCode());
            Result verify = gw.cli("audit", "verify");
            assertEquals(0, verify.exitCode(), verify.both());
            assertTrue(verify.stdout().startsWith("audit log intact: records 1.."), verify.stdout());

            Path export = work.resolve("export.ndjson");
            Result ex = gw.cli("audit", "export", "--since", "1h", "--out", export.toString());
            assertEquals(0, ex.exitCode(), ex.both());
            String ndjson = Files.readString(export);
            for (String expected : new String[] {"\"type\":\"enrollment\"", "\"type\":\"revocation\"",
                    "\"type\":\"admin_call\"", "\"actor\":\"admin/admin\"", "\"subject\":\"device/pump-2\"",
                    "\"kind\":\"head\"", "keyCompromise"}) {
                assertTrue(ndjson.contains(expected), expected + " in\n" + ndjson);
            }
            Result offline = Processes.run(work, Map.of(), Processes.siteward("audit", "verify", "--file",
                    export.toString(), "--root", data().resolve("admin/root.pem").toString()));
            assertEquals(0, offline.exitCode(), offline.both());
            Files.writeString(export, ndjson.replace("keyCompromise", "superseded"));
            Result forged = Processes.run(work, Map.of(), Processes.siteward("audit", "verify", "--file",
                    export.toString(), "--root", data().resolve("admin/root.pem").toString()));
            assertEquals(1, forged.exitCode(), forged.both());
            assertTrue(forged.stderr().contains("changed"), forged.both());
            Result badSince = gw.cli("audit", "export", "--since", "yesterday");
            assertEquals(2, badSince.exitCode(), badSince.both());
            assertEquals(1, badSince.stderr().strip().lines().count(), badSince.stderr());
        }
    }

    @Test
    @Order(2)
    void killMinus9DuringAppendsLeavesAChainThatVerifies() throws Exception {
        long before;
        GatewayProcess gw = GatewayProcess.start(data(), ENV);
        try {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger answered = new AtomicInteger();
            ExecutorService callers = Executors.newFixedThreadPool(4);
            for (int i = 0; i < 4; i++) {
                callers.execute(() -> {
                    while (!stop.get()) {
                        try {
                            if (gw.admin("GET", "devices", "").statusCode() == 200) {
                                answered.incrementAndGet();
                            }
                        } catch (Exception e) {
                            return; // the gateway is gone
                        }
                    }
                });
            }
            while (answered.get() < 150) {
                Thread.sleep(20);
            }
            String pid = Files.readString(data().resolve("gateway/endpoints.json")).replaceAll("(?s).*\"pid\":(\\d+).*",
                    "$1").strip();
            Result kill = Processes.run(work, Map.of(), List.of("kill", "-9", pid));
            assertEquals(0, kill.exitCode(), kill.both());
            stop.set(true);
            callers.shutdown();
            assertTrue(callers.awaitTermination(30, TimeUnit.SECONDS));
            ProcessHandle.of(Long.parseLong(pid)).ifPresent(h -> h.onExit().join());
        } finally {
            gw.close();
        }
        Result local = cli("audit", "verify");
        // killed between a commit and its head write, the newest records are not sealed yet; nothing else is wrong
        assertTrue(local.exitCode() == 0 || local.stderr().contains("not covered by the signed head file"),
                local.both());
        assertFalse(local.stderr().contains(" changed") || local.stderr().contains("removed"), local.both());
        try (GatewayProcess restarted = GatewayProcess.start(data(), ENV)) {
            Result verify = restarted.cli("audit", "verify");
            assertEquals(0, verify.exitCode(), verify.both());
            before = lastSeq(verify);
            assertTrue(before > 150, verify.stdout());
        }
        Result stopped = cli("audit", "verify");
        assertEquals(0, stopped.exitCode(), stopped.both());
    }

    private static void tampered(String expected, long position, String... statements) throws Exception {
        Path db = data().resolve("db");
        Path backup = work.resolve("db-backup");
        copy(db, backup);
        Path head = data().resolve("audit/head.json");
        byte[] headBytes = Files.readAllBytes(head);
        try {
            if (statements.length == 1 && statements[0].equals("rm head")) {
                Files.delete(head);
            } else {
                sql(statements);
            }
            Result r = cli("audit", "verify");
            assertEquals(1, r.exitCode(), r.both());
            assertTrue(r.stderr().contains(expected), "expected '" + expected + "' in: " + r.stderr());
            if (position > 0) {
                assertTrue(r.stderr().contains(" " + position), r.stderr());
            }
            assertEquals(1, r.stderr().strip().lines().count(), "one line: " + r.stderr());
        } finally {
            copy(backup, db);
            Files.write(head, headBytes);
        }
        Result ok = cli("audit", "verify");
        assertEquals(0, ok.exitCode(), "restored: " + ok.both());
    }

    private static void copy(Path from, Path to) throws IOException {
        if (Files.exists(to)) {
            try (Stream<Path> s = Files.walk(to)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) {
                Files.copy(p, to.resolve(p.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

    @Test
    @Order(3)
    void sqlTamperingWithTheStoppedGatewaysLogIsReportedAtItsPosition() throws Exception {
        long last = lastSeq(cli("audit", "verify"));
        tampered("record 5 changed", 5, "UPDATE audit_records SET actor = 'admin/mallory' WHERE seq = 5");
        tampered("record 7 removed", 7, "DELETE FROM audit_records WHERE seq = 7");
        tampered("record 8 is out of place: it holds record 9", 8,
                "UPDATE audit_records SET seq = -1 WHERE seq = 8", "UPDATE audit_records SET seq = 8 WHERE seq = 9",
                "UPDATE audit_records SET seq = 9 WHERE seq = -1");
        tampered("tail missing: records " + (last - 2) + ".." + last + " removed", last - 2,
                "DELETE FROM audit_records WHERE seq > " + (last - 3), "DELETE FROM audit_checkpoints WHERE seq > "
                        + (last - 3));
        tampered("head file is missing", 0, "rm head");
    }

    @Test
    @Order(4)
    void aGatewayOnPostgresqlKeepsItsAuditLogThereAndTheCliFollowsIt() throws Exception {
        String url = System.getenv().getOrDefault("SITEWARD_TEST_PG_URL",
                "jdbc:postgresql://127.0.0.1:5432/siteward_test");
        String user = System.getenv().getOrDefault("SITEWARD_TEST_PG_USER", "siteward");
        String password = System.getenv().getOrDefault("SITEWARD_TEST_PG_PASSWORD", "siteward");
        String schema = "it_" + Long.toHexString(System.nanoTime());
        try (Connection c = DriverManager.getConnection(url, user, password); Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA " + schema);
        } catch (java.sql.SQLException e) {
            if (Tools.ci()) {
                throw new AssertionError("PostgreSQL required under CI=true: " + e.getMessage(), e);
            }
            Assumptions.abort("PostgreSQL not reachable at " + url + ": " + e.getMessage());
        }
        Path pg = work.resolve("pg-data");
        Path pwFile = work.resolve("pg-password");
        Files.writeString(pwFile, password + "\n");
        Map<String, String> env = Map.of("SITEWARD_CA_PASSPHRASE", "audit test passphrase",
                "SITEWARD_DATABASE_URL", url + "?currentSchema=" + schema, "SITEWARD_DATABASE_USER", user,
                "SITEWARD_DATABASE_PASSWORD_FILE", pwFile.toString());
        try {
            try (GatewayProcess gw = GatewayProcess.start(pg, env)) {
                enroll(gw, "valve-1");
                Result verify = gw.cli("audit", "verify");
                assertEquals(0, verify.exitCode(), verify.both());
            }
            assertFalse(Files.exists(pg.resolve("db")), "no embedded database next to PostgreSQL");
            // without the environment: the CLI finds the database from what serve recorded in the data dir
            Result local = Processes.run(work, Map.of("SITEWARD_CA_PASSPHRASE", "audit test passphrase"),
                    Processes.siteward("audit", "verify", "--data-dir", pg.toString()));
            assertEquals(0, local.exitCode(), local.both());
            try (Connection c = DriverManager.getConnection(url + "?currentSchema=" + schema, user, password);
                 Statement st = c.createStatement();
                 var rs = st.executeQuery("SELECT COUNT(*) FROM audit_records WHERE type = 'enrollment'")) {
                rs.next();
                assertEquals(1, rs.getLong(1));
            }
        } finally {
            try (Connection c = DriverManager.getConnection(url, user, password); Statement st = c.createStatement()) {
                st.execute("DROP SCHEMA " + schema + " CASCADE");
            }
        }
    }
}
