package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.tests.Processes.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gateway behaviour across restarts and with site configuration: single-use tokens survive a restart, factory
 * certificates (IDevID) enroll only pre-registered devices bound to that certificate, enrollment is rate-limited per
 * source address.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayLifecycleIT {

    private static final Map<String, String> ENV = Map.of("SITEWARD_CA_PASSPHRASE", "lifecycle test passphrase");

    @TempDir
    static Path work;

    @BeforeAll
    static void tools() {
        Tools.require("openssl", "openssl");
        Tools.require("curl", "curl");
    }

    private static Result run(String... cmd) {
        return Processes.run(work, Map.of(), List.of(cmd));
    }

    private static Path csr(String name, String cn) throws Exception {
        Path der = work.resolve(name + ".der");
        Result r = run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", work.resolve(name + ".key").toString(), "-subj", "/CN=" + cn, "-outform", "DER",
                "-out", der.toString());
        assertEquals(0, r.exitCode(), r.both());
        Path b64 = work.resolve(name + ".b64");
        Files.writeString(b64, Base64.getEncoder().encodeToString(Files.readAllBytes(der)));
        return b64;
    }

    private static Result enroll(GatewayProcess gw, Path csr, String token, String out, String... extra) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-o", work.resolve(out).toString(), "-w",
                "%{http_code}", "--cacert", gw.dataDir().resolve("admin/root.pem").toString(), "-H",
                "Content-Type: application/pkcs10", "--data-binary", "@" + csr));
        if (token != null) {
            cmd.addAll(List.of("-H", "Authorization: Bearer " + token));
        }
        cmd.addAll(List.of(extra));
        cmd.add(gw.enrollUrl() + "/.well-known/est/simpleenroll");
        return Processes.run(work, Map.of(), cmd);
    }

    private static String read(String name) throws Exception {
        return Files.readString(work.resolve(name));
    }

    @Test
    @Order(1)
    void aUsedTokenStaysUsedAcrossAGatewayRestart() throws Exception {
        Path data = work.resolve("restart");
        String token;
        Path csr = csr("t1", "meter-1");
        try (GatewayProcess gw = GatewayProcess.start(data, ENV)) {
            Result t = gw.cli("token", "create", "--device-id", "meter-1");
            assertEquals(0, t.exitCode(), t.both());
            token = t.stdout().trim();
            assertEquals("200", enroll(gw, csr, token, "t1a.out").stdout(), read("t1a.out"));
            int code = gw.stop();
            assertTrue(code == 0 || code == 143, "clean exit on SIGTERM, not " + code);
        }
        try (GatewayProcess gw = GatewayProcess.start(data, ENV)) {
            Path other = csr("t1b", "meter-1");
            Result replay = enroll(gw, other, token, "t1b.out");
            assertEquals("403", replay.stdout(), read("t1b.out"));
            assertTrue(read("t1b.out").contains("enrollment.token_used"), read("t1b.out"));
            assertEquals("200", enroll(gw, csr, token, "t1c.out").stdout(), "same key: the same certificate again");
            assertEquals(read("t1a.out"), read("t1c.out"));
        }
    }

    /** A manufacturer CA and a factory certificate for {@code cn}, made with openssl; returns the serial (hex). */
    private static String factoryCertificate(String name, String cn) {
        Result r = run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", work.resolve(name + ".key").toString(), "-subj", "/O=Acme Sensors/CN=" + cn, "-out",
                work.resolve(name + ".csr").toString());
        assertEquals(0, r.exitCode(), r.both());
        r = run("openssl", "x509", "-req", "-in", work.resolve(name + ".csr").toString(), "-CA",
                work.resolve("mfg.pem").toString(), "-CAkey", work.resolve("mfg.key").toString(), "-CAcreateserial",
                "-days", "3650", "-out", work.resolve(name + ".pem").toString());
        assertEquals(0, r.exitCode(), r.both());
        String serial = run("openssl", "x509", "-in", work.resolve(name + ".pem").toString(), "-noout", "-serial")
                .stdout().trim();
        return serial.substring("serial=".length()).toLowerCase();
    }

    @Test
    @Order(2)
    void factoryCertificatesEnrollOnlyRegisteredDevicesAndRateLimitsAnswer429() throws Exception {
        Result ca = run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", work.resolve("mfg.key").toString(), "-subj", "/O=Acme Sensors/CN=Acme Factory CA",
                "-days", "3650", "-out", work.resolve("mfg.pem").toString(), "-addext",
                "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        assertEquals(0, ca.exitCode(), ca.both());
        String serial9 = factoryCertificate("idev9", "sensor-9");
        factoryCertificate("idev10", "sensor-10");
        String serial11 = factoryCertificate("idev11", "sensor-11");
        List<String> jvm = List.of("-Dsiteward.idevid-anchors=" + work.resolve("mfg.pem"),
                "-Dsiteward.enroll-rate-per-second=0.2", "-Dsiteward.enroll-burst=6");
        try (GatewayProcess gw = GatewayProcess.start(work.resolve("idevid"), ENV, jvm)) {
            assertEquals(0, gw.cli("device", "register", "sensor-9", "--idevid-serial", serial9).exitCode());
            assertEquals(0, gw.cli("device", "register", "sensor-11", "--idevid-serial", "0123456789abcdef").exitCode(),
                    "sensor-11 is registered for another factory certificate");

            Result registered = enroll(gw, csr("e9", "sensor-9"), null, "e9.out", "--cert",
                    work.resolve("idev9.pem").toString(), "--key", work.resolve("idev9.key").toString());
            assertEquals("200", registered.stdout(), read("e9.out"));
            Result show = gw.cli("device", "show", "sensor-9");
            assertTrue(show.stdout().contains("status         active"), show.stdout());

            Result unregistered = enroll(gw, csr("e10", "sensor-10"), null, "e10.out", "--cert",
                    work.resolve("idev10.pem").toString(), "--key", work.resolve("idev10.key").toString());
            assertEquals("403", unregistered.stdout(), read("e10.out"));
            assertTrue(read("e10.out").contains("enrollment.idevid_not_registered"), read("e10.out"));

            Result wrongCert = enroll(gw, csr("e11", "sensor-11"), null, "e11.out", "--cert",
                    work.resolve("idev11.pem").toString(), "--key", work.resolve("idev11.key").toString());
            assertEquals("403", wrongCert.stdout(), "bound to another factory certificate (" + serial11 + "): "
                    + read("e11.out"));

            // burst of 6 with 0.2/s: three used above, so a quick series must hit 429
            boolean limited = false;
            Path junk = csr("rl", "sensor-9");
            for (int i = 0; i < 8 && !limited; i++) {
                Result r = enroll(gw, junk, "not-a-token", "rl.out");
                limited = r.stdout().equals("429");
            }
            assertTrue(limited, "enrollment is rate-limited per source address");
            assertTrue(read("rl.out").contains("request.rate_limited"), read("rl.out"));
        }
    }

    private static Path decode(String out, String name) throws Exception {
        Path der = work.resolve(name + ".p7");
        Files.write(der, Base64.getMimeDecoder().decode(read(out)));
        Path pem = work.resolve(name + ".pem");
        assertEquals(0, run("openssl", "pkcs7", "-inform", "DER", "-in", der.toString(), "-print_certs", "-out",
                pem.toString()).exitCode());
        return pem;
    }

    private static Result whoami(GatewayProcess gw, Path pem, Path key) {
        return run("curl", "-sS", "--cacert", gw.dataDir().resolve("admin/root.pem").toString(), "--cert",
                pem.toString(), "--key", key.toString(), gw.deviceUrl() + "/v1/whoami");
    }

    @Test
    @Order(3)
    void issuingCaRotatesWhileServingAndDevicesKeepWorkingAcrossIt() throws Exception {
        try (GatewayProcess gw = GatewayProcess.start(work.resolve("rotate"), ENV)) {
            Path csr = csr("ro1", "lamp-1");
            String token = gw.cli("token", "create", "--device-id", "lamp-1").stdout().trim();
            assertEquals("200", enroll(gw, csr, token, "ro1.out").stdout(), read("ro1.out"));
            Path gen1 = decode("ro1.out", "ro1");
            assertEquals(0, whoami(gw, gen1, work.resolve("ro1.key")).exitCode());

            Result rotate = gw.cli("ca", "rotate");
            assertEquals(0, rotate.exitCode(), rotate.both());
            assertTrue(rotate.stdout().contains("Issuing CA 2"), rotate.stdout());

            Result still = whoami(gw, gen1, work.resolve("ro1.key"));
            assertTrue(still.stdout().contains("\"id\":\"lamp-1\""), "generation-1 certificates stay trusted, no "
                    + "restart: " + still.both());
            Path newCsr = csr("ro2", "lamp-1");
            Result renew = Processes.run(work, Map.of(), List.of("curl", "-sS", "-o", work.resolve("ro2.out")
                    .toString(), "-w", "%{http_code}", "--cacert", gw.dataDir().resolve("admin/root.pem").toString(),
                    "--cert", gen1.toString(), "--key", work.resolve("ro1.key").toString(), "-H",
                    "Content-Type: application/pkcs10", "--data-binary", "@" + newCsr,
                    gw.enrollUrl() + "/.well-known/est/simplereenroll"));
            assertEquals("200", renew.stdout(), read("ro2.out"));
            Path gen2 = decode("ro2.out", "ro2");
            String issuer = run("openssl", "x509", "-in", gen2.toString(), "-noout", "-issuer").stdout();
            assertTrue(issuer.contains("Issuing CA 2"), "renewal moves the device to the new issuing CA: " + issuer);
            assertTrue(whoami(gw, gen2, work.resolve("ro2.key")).stdout().contains("lamp-1"));
            Files.writeString(work.resolve("ro-root.pem"), Files.readString(gw.dataDir().resolve("admin/root.pem")));
            Result verify = run("openssl", "verify", "-CAfile", work.resolve("ro-root.pem").toString(), "-untrusted",
                    gen2.toString(), gen2.toString());
            assertEquals(0, verify.exitCode(), verify.both());

            assertEquals(0, gw.cli("device", "revoke", "lamp-1").exitCode());
            Result crl2 = run("curl", "-sS", "-o", work.resolve("crl2.der").toString(), "--cacert",
                    gw.dataDir().resolve("admin/root.pem").toString(), gw.enrollUrl() + "/crl/2");
            assertEquals(0, crl2.exitCode(), crl2.both());
            String listing = run("openssl", "crl", "-inform", "DER", "-in", work.resolve("crl2.der").toString(),
                    "-noout", "-text").stdout();
            String serial = run("openssl", "x509", "-in", gen2.toString(), "-noout", "-serial").stdout().trim()
                    .substring("serial=".length());
            assertTrue(listing.contains(serial), "generation 2's CRL lists the revoked renewal: " + listing);
        }
    }

    @Test
    @Order(4)
    void devicesRefuseAGatewayWhoseServerCertificateWasRevokedUntilItHasANewOne() throws Exception {
        java.time.Clock clock = java.time.Clock.systemUTC();
        dev.siteward.device.RetryPolicy quick = new dev.siteward.device.RetryPolicy(new dev.siteward.device.Backoff(
                java.time.Duration.ofMillis(100), java.time.Duration.ofMillis(500), new java.util.Random()), 2,
                d -> Thread.sleep(d.toMillis()));
        Path data = work.resolve("server-revoked");
        dev.siteward.device.store.DeviceDirectory dir = new dev.siteward.device.store.DeviceDirectory(
                work.resolve("lamp-9"));
        try (GatewayProcess gw = GatewayProcess.start(data, ENV)) {
            dev.siteward.device.DeviceIdentity identity = new dev.siteward.device.EnrollmentClient(clock, quick)
                    .enroll(dev.siteward.device.EnrollmentRequest.of(gw.enrollUrl().toString(),
                            gw.token("lamp-9", null), gw.rootFingerprint()), dir,
                            new dev.siteward.device.keys.Pkcs12DeviceKeyStore(dir.keysDir(), clock));
            assertEquals("lamp-9", new dev.siteward.device.DeviceHttpClient(identity, clock).whoami().id());

            String serverSerial = run("openssl", "x509", "-in", data.resolve("gateway/server.pem").toString(),
                    "-noout", "-serial").stdout().trim().substring("serial=".length());
            Result revoke = gw.cli("ca", "revoke", "--serial", serverSerial, "--reason", "keyCompromise");
            assertEquals(0, revoke.exitCode(), revoke.both());
            dev.siteward.device.DeviceHttpClient fresh = new dev.siteward.device.DeviceHttpClient(
                    dev.siteward.device.DeviceIdentity.load(dir, null, clock), clock);
            dev.siteward.device.DeviceException refused = org.junit.jupiter.api.Assertions.assertThrows(
                    dev.siteward.device.DeviceException.class, fresh::whoami);
            assertTrue(String.valueOf(refused.getMessage()).toLowerCase().contains("revoked")
                    || refused.reason().name().contains("UNTRUSTED"), "refused as revoked: " + refused);
        }
        String revokedSerial = run("openssl", "x509", "-in", data.resolve("gateway/server.pem").toString(), "-noout",
                "-serial").stdout();
        try (GatewayProcess gw = GatewayProcess.start(data, ENV)) {
            String newSerial = run("openssl", "x509", "-in", data.resolve("gateway/server.pem").toString(), "-noout",
                    "-serial").stdout();
            assertTrue(!newSerial.equals(revokedSerial), "a restart re-issues the revoked server certificate");
            Result info = run("curl", "-sS", "--cacert", data.resolve("admin/root.pem").toString(),
                    gw.enrollUrl() + "/crls");
            assertTrue(info.stdout().contains("BEGIN X509 CRL"), info.both());
        }
    }

    @Test
    @Order(5)
    void sigtermStopsTheGatewayWithinTenSecondsInOrderWithExitCode143AndTheTimeRecordWritten() throws Exception {
        Path data = work.resolve("sigterm");
        try (GatewayProcess gw = GatewayProcess.start(data, ENV)) {
            // a device connected to the embedded broker when the signal comes
            dev.siteward.device.DeviceIdentity device = MqttDevices.enroll(gw, work.resolve("sigterm-dev"), "meter-7");
            MqttDevices.Client client = MqttDevices.Client.connect(gw.mqttPort(), device, "meter-7");
            client.publish("siteward/sensors/meter-7/readings", "{\"seq\":1,\"features\":[1,2]}");
            java.time.Instant signalled = java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
            long t0 = System.nanoTime();
            int code = gw.stop();
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(millis < 10_000, "stopped " + millis + " ms after SIGTERM");
            assertEquals(143, code, "SIGTERM ends the JVM with 128 + 15 once everything is closed");
            String log = gw.log();
            int unsubscribed = log.indexOf("shutdown: inference client: unsubscribed");
            int drained = log.indexOf("shutdown: inference service: queued readings run and stored");
            int broker = log.indexOf("shutdown: embedded MQTT broker");
            assertTrue(unsubscribed >= 0 && unsubscribed < drained && drained < broker, log);
            assertTrue(log.contains("shutdown: message path stopped"), log);
            // written at shutdown: the trusted-time record is not older than the signal
            String time = Files.readString(data.resolve("gateway/time.json"));
            java.time.Instant latest = java.time.Instant.parse(new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(time).get("latest").asText());
            assertTrue(!latest.isBefore(signalled), time + " vs signal at " + signalled);
            System.out.println("[shutdown] siteward serve exited " + millis + " ms after SIGTERM (exit " + code + ")");
        }
    }
}
