package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.EnrollmentClient;
import dev.siteward.device.EnrollmentRequest;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.tests.Processes.Result;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention with the real gateway jar on PostgreSQL: a signed bundle's retention rules minimise what an enrolled
 * device posts (checked in the database), {@code siteward data export} writes only allowed fields, and a
 * {@code kill -9} in the middle of a purge leaves a store whose unfinished run the restarted gateway finishes, with
 * one deletion receipt and an audit chain that verifies.
 */
class RetentionIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PASS = "retention test passphrase";

    @TempDir
    static Path work;

    private static String pgUrl() {
        return System.getenv().getOrDefault("SITEWARD_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/siteward_test");
    }

    private static String pgUser() {
        return System.getenv().getOrDefault("SITEWARD_TEST_PG_USER", "siteward");
    }

    private static String pgPassword() {
        return System.getenv().getOrDefault("SITEWARD_TEST_PG_PASSWORD", "siteward");
    }

    private static long count(String url, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(url, pgUser(), pgPassword()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static HttpClient client(DeviceIdentity id) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("root", id.root());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(id.keyManagers(), tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1).build();
    }

    private static Path signedBundle(Path keys, ModelCliIT.PublisherChain publisher) throws Exception {
        return signedBundle(work, keys, publisher);
    }

    private static Path signedBundle(Path work, Path keys, ModelCliIT.PublisherChain publisher) throws Exception {
        Path dir = Files.createDirectories(work.resolve("bundle"));
        Files.writeString(dir.resolve("retention.yaml"), """
                schemaVersion: 1
                rules: []
                retention:
                  classes:
                    sensor-readings:
                      fields: [sensor, value, operator, location]
                      maxAge: 1s
                      minimise:
                        drop: [location]
                        hash: [operator]
                      export:
                        fields: [sensor, value]
                    blobs:
                      maxAge: 1d
                """);
        Result signed = Processes.run(work, Map.of(), Processes.siteward("policy", "sign", dir.toString(),
                "--key", keys.resolve("publisher-key.pem").toString(), "--cert-chain", publisher.chain().toString(),
                "--version", "1", "--expires", "1d"));
        assertEquals(0, signed.exitCode(), signed.both());
        return dir;
    }

    @Test
    void minimisedIngestExportAndAPurgeKilledMidRunFinishedAfterRestart() throws Exception {
        String schema = "it_ret_" + Long.toHexString(System.nanoTime());
        try (Connection c = DriverManager.getConnection(pgUrl(), pgUser(), pgPassword());
             Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA " + schema);
        } catch (java.sql.SQLException e) {
            if (Tools.ci()) {
                throw new AssertionError("PostgreSQL required under CI=true: " + e.getMessage(), e);
            }
            Assumptions.abort("PostgreSQL not reachable at " + pgUrl() + ": " + e.getMessage());
        }
        String url = pgUrl() + "?currentSchema=" + schema;
        Path pwFile = work.resolve("pg-password");
        Files.writeString(pwFile, pgPassword() + "\n");
        Map<String, String> env = Map.of("SITEWARD_CA_PASSPHRASE", PASS, "SITEWARD_DATABASE_URL", url,
                "SITEWARD_DATABASE_USER", pgUser(), "SITEWARD_DATABASE_PASSWORD_FILE", pwFile.toString());
        List<String> jvm = List.of("-Dsiteward.retention.purge-batch=20", "-Dsiteward.retention.purge-interval=1h",
                "-Dsiteward.retention.purge-initial-delay=1h", "-Dsiteward.retention.max-blob-bytes=" + (6 << 20));
        Path data = work.resolve("data");
        Path keys = work.resolve("keys");
        try {
            Result keygen = Processes.run(work, Map.of(), Processes.siteward("model", "keygen", "--out",
                    keys.toString(), "--name", "security-team"));
            assertEquals(0, keygen.exitCode(), keygen.both());
            ModelCliIT.PublisherChain publisher = ModelCliIT.PublisherChain.create(work, keys.resolve("publisher.csr"));
            int records = 20_000;
            try (GatewayProcess gw = GatewayProcess.start(data, env, jvm)) {
                DeviceDirectory dir = new DeviceDirectory(work.resolve("sensor-1"));
                DeviceIdentity id = new EnrollmentClient(Clock.systemUTC(), DeviceSdkIT.quickRetry()).enroll(
                        EnrollmentRequest.of(gw.enrollUrl().toString(), gw.token("sensor-1", null),
                                gw.rootFingerprint()), dir, new Pkcs12DeviceKeyStore(dir.keysDir(), Clock.systemUTC()));
                HttpClient device = client(id);
                URI post = URI.create(gw.deviceUrl() + "/v1/data/sensor-readings");
                HttpResponse<String> refused = device.send(HttpRequest.newBuilder(post)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"sensor\":\"t1\",\"value\":1}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(403, refused.statusCode(), refused.body());
                assertEquals("data.not_retained", JSON.readTree(refused.body()).get("code").asText());

                assertEquals(0, gw.siteward("publisher", "add", "secteam", "--roots", publisher.root().toString(),
                        "--policies").exitCode());
                Result push = gw.siteward("policy", "push", signedBundle(keys, publisher).toString());
                assertEquals(0, push.exitCode(), push.both());

                HttpResponse<String> unknown = device.send(HttpRequest.newBuilder(post)
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                                "{\"sensor\":\"t1\",\"gps\":\"52.1,13.4\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(400, unknown.statusCode(), unknown.body());
                assertEquals("data.unknown_field", JSON.readTree(unknown.body()).get("code").asText());
                // a 5 MiB blob streams past the 1 MiB limit of buffered bodies; one above max-blob-bytes is refused
                byte[] image = new byte[5 << 20];
                new java.security.SecureRandom().nextBytes(image);
                URI blobs = URI.create(gw.deviceUrl() + "/v1/data/blobs");
                HttpResponse<String> stored = device.send(HttpRequest.newBuilder(blobs).header("Content-Type",
                        "image/png").POST(HttpRequest.BodyPublishers.ofByteArray(image)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(201, stored.statusCode(), stored.body());
                assertEquals(image.length, JSON.readTree(stored.body()).get("bytes").asLong());
                HttpResponse<String> tooLarge = device.send(HttpRequest.newBuilder(blobs).header("Content-Type",
                        "image/png").POST(HttpRequest.BodyPublishers.ofByteArray(new byte[7 << 20])).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(413, tooLarge.statusCode(), tooLarge.body());
                assertEquals("data.too_large", JSON.readTree(tooLarge.body()).get("code").asText());
                assertEquals(1, count(url, "SELECT COUNT(*) FROM data_records WHERE data_class = 'blobs'"));
                assertEquals(1, count(url, "SELECT COUNT(*) FROM data_records WHERE data_class = 'blobs' AND "
                        + "size_bytes = " + image.length + " AND length(body) = " + image.length + " AND md5(body) = '"
                        + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5")
                        .digest(image)) + "'"), "the blob is stored byte for byte");
                for (int batch = 0; batch < records / 1000; batch++) {
                    StringBuilder b = new StringBuilder("[");
                    for (int i = 0; i < 1000; i++) {
                        b.append(i == 0 ? "" : ",").append("{\"sensor\":\"t").append(i % 7).append("\",\"value\":")
                                .append(i).append(",\"operator\":\"alice\",\"location\":\"52.1,13.4\"}");
                    }
                    HttpResponse<String> r = device.send(HttpRequest.newBuilder(post)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(b.append("]").toString())).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertEquals(201, r.statusCode(), r.body());
                }
                assertEquals(records, count(url, "SELECT COUNT(*) FROM data_records "
                        + "WHERE data_class = 'sensor-readings'"));
                assertEquals(0, count(url, "SELECT COUNT(*) FROM data_records WHERE data_class = 'sensor-readings' "
                        + "AND (position('location' in convert_from(body, 'UTF8')) > 0 "
                        + "OR position('52.1' in convert_from(body, 'UTF8')) > 0 "
                        + "OR position('alice' in convert_from(body, 'UTF8')) > 0)"), "minimised fields in the DB");

                Result export = gw.siteward("data", "export", "--class", "sensor-readings", "--since", "1h",
                        "--out", work.resolve("export.ndjson").toString());
                assertEquals(0, export.exitCode(), export.both());
                List<String> lines = Files.readAllLines(work.resolve("export.ndjson"));
                assertEquals(records, lines.size());
                JsonNode first = JSON.readTree(lines.get(0));
                assertEquals(2, first.get("record").size(), first.toString());
                Result denied = gw.siteward("data", "export", "--class", "device-logs", "--since", "1h");
                assertEquals(2, denied.exitCode(), denied.both());

                Thread.sleep(1_100); // the real jar reads the real clock: let the 1s maxAge pass
                CompletableFuture<?> purging = CompletableFuture.runAsync(() -> {
                    try {
                        gw.admin("POST", "retention/purge", "");
                    } catch (Exception gone) {
                        // the gateway is killed under it
                    }
                });
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (count(url, "SELECT COALESCE(MAX(deleted), 0) FROM retention_purges WHERE finished_at IS NULL")
                        < 200) {
                    assertTrue(System.nanoTime() < deadline, "the purge did not start");
                    Thread.sleep(5);
                }
                String pid = Files.readString(data.resolve("gateway/endpoints.json"))
                        .replaceAll("(?s).*\"pid\":(\\d+).*", "$1").strip();
                assertEquals(0, Processes.run(work, Map.of(), List.of("kill", "-9", pid)).exitCode());
                ProcessHandle.of(Long.parseLong(pid)).ifPresent(h -> h.onExit().join());
                purging.join();
            }
            long left = count(url, "SELECT COUNT(*) FROM data_records WHERE data_class = 'sensor-readings'");
            long counted = count(url, "SELECT deleted FROM retention_purges WHERE finished_at IS NULL");
            assertTrue(left > 0 && left < records, "killed mid-run: " + left + " left");
            assertEquals(records, left + counted, "the unfinished run row counts exactly what is gone");
            assertEquals(0, counted % 20, "whole batches only: nothing half-deleted");

            try (GatewayProcess gw = GatewayProcess.start(data, env, jvm)) {
                HttpResponse<String> r = gw.admin("POST", "retention/purge", "");
                assertEquals(200, r.statusCode(), r.body());
                JsonNode purge = JSON.readTree(r.body()).get("classes").get(0);
                assertTrue(purge.get("resumed").asBoolean(), purge.toString());
                assertEquals(records, purge.get("deleted").asLong());
                assertEquals(0, count(url, "SELECT COUNT(*) FROM data_records WHERE data_class = 'sensor-readings'"));
                assertEquals(1, count(url, "SELECT COUNT(*) FROM data_records WHERE data_class = 'blobs'"),
                        "the blob is not expired yet");
                Result report = gw.siteward("retention", "report");
                assertEquals(0, report.exitCode(), report.both());
                assertTrue(report.stdout().contains("sensor-readings"), report.stdout());
                Result verify = gw.cli("audit", "verify");
                assertEquals(0, verify.exitCode(), verify.both());
            }
            assertEquals(1, count(url, "SELECT COUNT(*) FROM audit_records WHERE type = 'purge' "
                    + "AND subject = 'sensor-readings'"), "one deletion receipt for the run");
            Result local = Processes.run(work, Map.of("SITEWARD_CA_PASSPHRASE", PASS),
                    Processes.siteward("audit", "verify", "--data-dir", data.toString()));
            assertEquals(0, local.exitCode(), local.both());
            assertFalse(local.stdout().isBlank());
        } finally {
            try (Connection c = DriverManager.getConnection(pgUrl(), pgUser(), pgPassword());
                 Statement st = c.createStatement()) {
                st.execute("DROP SCHEMA " + schema + " CASCADE");
            }
        }
    }

    /** The embedded H2 store (the default): the same kill -9 in the middle of a purge, read back from the H2 file. */
    @Test
    void onTheEmbeddedStoreAPurgeKilledMidRunIsFinishedAfterRestartWithOneReceipt() throws Exception {
        Path base = Files.createDirectories(work.resolve("h2"));
        Map<String, String> env = Map.of("SITEWARD_CA_PASSPHRASE", PASS);
        List<String> jvm = List.of("-Dsiteward.retention.purge-batch=10", "-Dsiteward.retention.purge-interval=1h",
                "-Dsiteward.retention.purge-initial-delay=1h");
        Path data = base.resolve("data");
        Path keys = base.resolve("keys");
        Result keygen = Processes.run(base, Map.of(), Processes.siteward("model", "keygen", "--out",
                keys.toString(), "--name", "security-team"));
        assertEquals(0, keygen.exitCode(), keygen.both());
        ModelCliIT.PublisherChain publisher = ModelCliIT.PublisherChain.create(base, keys.resolve("publisher.csr"));
        int records = 30_000;
        try (GatewayProcess gw = GatewayProcess.start(data, env, jvm)) {
            DeviceDirectory dir = new DeviceDirectory(base.resolve("sensor-1"));
            DeviceIdentity id = new EnrollmentClient(Clock.systemUTC(), DeviceSdkIT.quickRetry()).enroll(
                    EnrollmentRequest.of(gw.enrollUrl().toString(), gw.token("sensor-1", null),
                            gw.rootFingerprint()), dir, new Pkcs12DeviceKeyStore(dir.keysDir(), Clock.systemUTC()));
            HttpClient device = client(id);
            assertEquals(0, gw.siteward("publisher", "add", "secteam", "--roots", publisher.root().toString(),
                    "--policies").exitCode());
            Result push = gw.siteward("policy", "push", signedBundle(base, keys, publisher).toString());
            assertEquals(0, push.exitCode(), push.both());
            URI post = URI.create(gw.deviceUrl() + "/v1/data/sensor-readings");
            for (int batch = 0; batch < records / 1000; batch++) {
                StringBuilder b = new StringBuilder("[");
                for (int i = 0; i < 1000; i++) {
                    b.append(i == 0 ? "" : ",").append("{\"sensor\":\"t").append(i % 7).append("\",\"value\":")
                            .append(i).append('}');
                }
                HttpResponse<String> r = device.send(HttpRequest.newBuilder(post)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(b.append("]").toString())).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 429) { // the device's request quota: wait as advised
                    Thread.sleep(1_000L * Long.parseLong(r.headers().firstValue("Retry-After").orElse("1")));
                    batch--;
                    continue;
                }
                assertEquals(201, r.statusCode(), r.body());
            }
            Thread.sleep(1_100); // the real jar reads the real clock: let the 1s maxAge pass
            CompletableFuture<?> purging = CompletableFuture.runAsync(() -> {
                try {
                    gw.admin("POST", "retention/purge", "");
                } catch (Exception gone) {
                    // the gateway is killed under it
                }
            });
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (true) {
                JsonNode readings = null;
                for (JsonNode c : JSON.readTree(gw.admin("GET", "retention/report", "").body()).get("classes")) {
                    if (c.get("dataClass").asText().equals("sensor-readings")) {
                        readings = c;
                    }
                }
                if (readings != null && readings.get("purgeUnfinished").asBoolean()
                        && readings.get("lastPurgeDeleted").asLong() >= 200) {
                    break;
                }
                assertTrue(System.nanoTime() < deadline, "the purge did not start");
                Thread.sleep(5);
            }
            String pid = Files.readString(data.resolve("gateway/endpoints.json"))
                    .replaceAll("(?s).*\"pid\":(\\d+).*", "$1").strip();
            assertEquals(0, Processes.run(base, Map.of(), List.of("kill", "-9", pid)).exitCode());
            ProcessHandle.of(Long.parseLong(pid)).ifPresent(h -> h.onExit().join());
            purging.join();
        }
        long left;
        long counted;
        try (dev.siteward.gateway.store.GatewayStore store = dev.siteward.gateway.store.GatewayStore
                .openEmbedded(data); Connection c = store.connection(); Statement st = c.createStatement()) {
            left = single(st, "SELECT COUNT(*) FROM data_records WHERE data_class = 'sensor-readings'");
            counted = single(st, "SELECT deleted FROM retention_purges WHERE finished_at IS NULL");
        }
        assertTrue(left > 0 && left < records, "killed mid-run: " + left + " left");
        assertEquals(records, left + counted, "the unfinished run row counts exactly what is gone");
        assertEquals(0, counted % 10, "whole batches only: nothing half-deleted");
        try (GatewayProcess gw = GatewayProcess.start(data, env, jvm)) {
            HttpResponse<String> r = gw.admin("POST", "retention/purge", "");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode purge = JSON.readTree(r.body()).get("classes").get(0);
            assertTrue(purge.get("resumed").asBoolean(), purge.toString());
            assertEquals(records, purge.get("deleted").asLong());
            Result verify = gw.cli("audit", "verify");
            assertEquals(0, verify.exitCode(), verify.both());
        }
        try (dev.siteward.gateway.store.GatewayStore store = dev.siteward.gateway.store.GatewayStore
                .openEmbedded(data); Connection c = store.connection(); Statement st = c.createStatement()) {
            assertEquals(0, single(st, "SELECT COUNT(*) FROM data_records"));
            assertEquals(1, single(st, "SELECT COUNT(*) FROM audit_records WHERE type = 'purge' "
                    + "AND subject = 'sensor-readings'"), "one deletion receipt for the run");
        }
        Result local = Processes.run(base, Map.of("SITEWARD_CA_PASSPHRASE", PASS),
                Processes.siteward("audit", "verify", "--data-dir", data.toString()));
        assertEquals(0, local.exitCode(), local.both());
    }

    private static long single(Statement st, String sql) throws Exception {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
