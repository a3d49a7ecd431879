package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.device.Backoff;
import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceHttpClient;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.EnrollmentClient;
import dev.siteward.device.EnrollmentRequest;
import dev.siteward.device.RenewalClient;
import dev.siteward.device.RetryPolicy;
import dev.siteward.device.Whoami;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.device.trust.PinnedRootTrustManager;
import dev.siteward.tests.Processes.Result;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device SDK and the {@code siteward-device} CLI against the real, packaged gateway: enroll with a token and the
 * pinned root fingerprint, whoami over mTLS, renew, revoke (next request refused, open keep-alive connection closed
 * within a second), and a wrong fingerprint refused before the token is ever sent.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DeviceSdkIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Clock CLOCK = Clock.systemUTC();

    @TempDir
    static Path work;
    static GatewayProcess gateway;
    static String fingerprint;
    static DeviceDirectory dir;
    static DeviceIdentity identity;
    static DeviceHttpClient http;

    @BeforeAll
    static void startGateway() throws Exception {
        gateway = GatewayProcess.start(work.resolve("gateway-data"));
        fingerprint = gateway.rootFingerprint();
    }

    @AfterAll
    static void stopGateway() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    static RetryPolicy quickRetry() {
        return new RetryPolicy(new Backoff(Duration.ofMillis(200), Duration.ofSeconds(1), new Random()), 3,
                d -> Thread.sleep(d.toMillis()));
    }

    static DeviceIdentity enroll(DeviceDirectory into, String token, String pin) throws DeviceException {
        return new EnrollmentClient(CLOCK, quickRetry()).enroll(
                EnrollmentRequest.of(gateway.enrollUrl().toString(), token, pin), into,
                new Pkcs12DeviceKeyStore(into.keysDir(), CLOCK));
    }

    @Test
    @Order(1)
    void theSdkEnrollsWithATokenAndThePinnedFingerprintAndIsKnownOverMtls() throws Exception {
        dir = new DeviceDirectory(work.resolve("pump-7"));
        identity = enroll(dir, gateway.token("pump-7", "class=pump,line=3"), fingerprint);

        assertEquals("pump-7", identity.deviceId());
        assertEquals("localhost", identity.state().deviceUrl().getHost());
        assertEquals(gateway.devicePort(), identity.state().deviceUrl().getPort());
        assertEquals(identity.certificate(), dir.load().certificate());

        http = new DeviceHttpClient(identity, CLOCK);
        Whoami me = http.whoami();
        assertEquals("pump-7", me.id());
        assertEquals("device", me.kind());
        assertEquals("active", me.status());
        assertEquals("pump", me.labels().get("class"));
        assertEquals(identity.certificate().getSerialNumber().toString(16), me.serial());
    }

    @Test
    @Order(2)
    void theSdkRenewsWithANewKeyAndKeepsItsIdentity() throws Exception {
        DeviceIdentity before = http.identity();
        DeviceIdentity renewed = RenewalClient.over(http, dir, new Pkcs12DeviceKeyStore(dir.keysDir(), CLOCK), CLOCK,
                quickRetry()).renew();

        assertEquals("pump-7", renewed.deviceId());
        assertNotEquals(before.certificate().getSerialNumber(), renewed.certificate().getSerialNumber());
        assertNotEquals(before.certificate().getPublicKey(), renewed.certificate().getPublicKey());
        assertEquals(renewed.certificate(), dir.load().certificate());
        Whoami me = http.whoami();
        assertEquals("pump-7", me.id());
        assertEquals(renewed.certificate().getSerialNumber().toString(16), me.serial());
        identity = renewed;
    }

    @Test
    @Order(3)
    void revocationRefusesTheNextRequestAndClosesAnOpenKeepAliveConnectionWithinOneSecond() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(identity.keyManagers(), new TrustManager[] {PinnedRootTrustManager.forRoot(identity.root(), CLOCK)},
                null);
        try (SSLSocket socket = (SSLSocket) ctx.getSocketFactory().createSocket("localhost", gateway.devicePort())) {
            SSLParameters params = socket.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(params);
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            socket.getOutputStream().write(("GET /v1/whoami HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive"
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            String first = readResponse(socket.getInputStream());
            assertTrue(first.startsWith("HTTP/1.1 200"), first);
            assertTrue(first.contains("\"pump-7\""), first);

            InputStream in = socket.getInputStream();
            CompletableFuture<Long> closedAt = CompletableFuture.supplyAsync(() -> {
                try {
                    int b = in.read();
                    return b < 0 ? System.nanoTime() : -1L;
                } catch (IOException e) {
                    return System.nanoTime();
                }
            });
            // revoked through the admin API in-process, so the instant the revocation was asked for is known
            long revokeSent = System.nanoTime();
            var revoke = gateway.admin("POST", "devices/pump-7/revoke", "{\"reason\":\"keyCompromise\"}");
            long revokeAnswered = System.nanoTime();
            assertEquals(200, revoke.statusCode(), revoke.body());

            long closed = closedAt.get(5, TimeUnit.SECONDS);
            assertTrue(closed > 0, "the gateway sent data instead of closing the connection");
            long fromRequest = TimeUnit.NANOSECONDS.toMillis(closed - revokeSent);
            System.out.printf("revocation: open keep-alive connection closed %d ms after the revoke request was sent "
                    + "(%d ms after its answer)%n", fromRequest,
                    TimeUnit.NANOSECONDS.toMillis(closed - revokeAnswered));
            assertTrue(fromRequest <= 1000, "open connection closed only " + fromRequest
                    + " ms after the revocation was requested");
        }

        DeviceException refused = assertThrows(DeviceException.class, () -> new DeviceHttpClient(identity, CLOCK)
                .whoami());
        assertEquals(DeviceException.Reason.REFUSED, refused.reason(), refused.getMessage());
        assertFalse(refused.retryable());
    }

    /** Reads one HTTP/1.1 response with a Content-Length body; returns head and body as text. */
    static String readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed in the response head");
            }
            head.write(b);
        }
        String h = head.toString(StandardCharsets.US_ASCII);
        int length = 0;
        for (String line : h.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).strip());
            }
        }
        byte[] body = in.readNBytes(length);
        return h + new String(body, StandardCharsets.UTF_8);
    }

    @Test
    @Order(4)
    void aWrongFingerprintRefusesToEnrollAndNeverSpendsTheToken() throws Exception {
        String token = gateway.token("pump-8", null);
        String wrong = "sha256:" + "ab".repeat(32);
        DeviceDirectory refusedDir = new DeviceDirectory(work.resolve("pump-8-wrong"));
        DeviceException e = assertThrows(DeviceException.class, () -> enroll(refusedDir, token, wrong));
        assertEquals(DeviceException.Reason.UNTRUSTED_GATEWAY, e.reason(), e.getMessage());
        assertFalse(refusedDir.enrolled());

        // the token was never sent: it still enrolls the device with the right pin
        DeviceIdentity ok = enroll(new DeviceDirectory(work.resolve("pump-8")), token, fingerprint);
        assertEquals("pump-8", ok.deviceId());
    }

    @Test
    @Order(5)
    void theCliEnrollsShowsStatusRenewsAndReportsRevocationAsAPackagedJar() throws Exception {
        Path cliDir = work.resolve("cli-device");
        String token = gateway.tokenFromCli("sensor-3", "class=sensor");

        Result wrongPin = device("enroll", "--gateway", gateway.enrollUrl().toString(), "--token", token,
                "--ca-fingerprint", "sha256:" + "cd".repeat(32), "--dir", cliDir.toString());
        assertEquals(3, wrongPin.exitCode(), wrongPin.both());
        assertTrue(wrongPin.stderr().contains("device.untrusted_gateway"), wrongPin.stderr());

        Result enrolled = device("enroll", "--gateway", gateway.enrollUrl().toString(), "--token", token,
                "--ca-fingerprint", fingerprint, "--dir", cliDir.toString());
        assertEquals(0, enrolled.exitCode(), enrolled.both());
        assertTrue(Files.exists(cliDir.resolve("device.json")));

        JsonNode status = statusJson(cliDir);
        assertEquals("sensor-3", status.path("deviceId").asText());
        assertEquals("sensor", status.path("gateway").path("whoami").path("labels").path("class").asText());
        String firstSerial = status.path("serial").asText();
        assertTrue(status.path("nextRenewal").asText().compareTo(status.path("certificateExpires").asText()) < 0);

        Result renewed = device("renew", "--dir", cliDir.toString());
        assertEquals(0, renewed.exitCode(), renewed.both());
        JsonNode after = statusJson(cliDir);
        assertNotEquals(firstSerial, after.path("serial").asText());
        assertEquals(after.path("serial").asText(), after.path("gateway").path("whoami").path("serial").asText());

        Result revoke = gateway.siteward("device", "revoke", "sensor-3");
        assertEquals(0, revoke.exitCode(), revoke.both());
        Result refused = device("status", "--dir", cliDir.toString());
        assertEquals(3, refused.exitCode(), refused.both());
        assertTrue(refused.stdout().contains("REFUSED"), refused.stdout());
        Result renewRefused = device("renew", "--dir", cliDir.toString());
        assertEquals(3, renewRefused.exitCode(), renewRefused.both());
        assertEquals(after.path("serial").asText(), new DeviceDirectory(cliDir).load().certificate()
                .getSerialNumber().toString(16), "a refused renewal keeps the working credential");
    }

    @Test
    @Order(6)
    void theCliEnrollsAndRenewsWithItsKeyInASoftHsmTokenAndUsesItForMtls() throws Exception {
        Tools.require("softhsm2-util", "softhsm2");
        Path hsm = Files.createDirectories(work.resolve("softhsm"));
        Path tokens = Files.createDirectories(hsm.resolve("tokens"));
        Path conf = Files.writeString(hsm.resolve("softhsm2.conf"), "directories.tokendir = " + tokens
                + "\nobjectstore.backend = file\nlog.level = ERROR\n");
        Map<String, String> env = Map.of("SOFTHSM2_CONF", conf.toString());
        Result init = Processes.run(work, env, List.of("softhsm2-util", "--init-token", "--free", "--label", "dev",
                "--pin", "1234-pin", "--so-pin", "5678-so"));
        assertEquals(0, init.exitCode(), init.both());
        Path config = Files.writeString(hsm.resolve("pkcs11.cfg"), String.join("\n",
                "name = SitewardDeviceIT", "library = /usr/lib/softhsm/libsofthsm2.so", "slotListIndex = 0",
                "attributes(generate, CKO_PRIVATE_KEY, *) = {", "  CKA_TOKEN = true", "  CKA_SENSITIVE = true",
                "  CKA_EXTRACTABLE = false", "}", "attributes(generate, CKO_PUBLIC_KEY, *) = {", "  CKA_TOKEN = true",
                "}", ""));
        Path pinFile = Files.writeString(hsm.resolve("pin"), "1234-pin\n");
        Path hsmDir = work.resolve("hsm-device");

        Result enrolled = deviceWithEnv(env, "enroll", "--gateway", gateway.enrollUrl().toString(), "--token",
                gateway.token("camera-9", null), "--ca-fingerprint", fingerprint, "--dir", hsmDir.toString(),
                "--pkcs11-config", config.toString(), "--pin-file", pinFile.toString());
        assertEquals(0, enrolled.exitCode(), enrolled.both());
        assertFalse(Files.exists(hsmDir.resolve("keys")), "no key file when the key is in the token");

        Result status = deviceWithEnv(env, "status", "--dir", hsmDir.toString(), "--json", "--pin-file",
                pinFile.toString());
        assertEquals(0, status.exitCode(), status.both());
        JsonNode s = JSON.readTree(status.stdout());
        assertEquals("pkcs11", s.path("keyType").asText());
        assertEquals("camera-9", s.path("gateway").path("whoami").path("id").asText(), status.stdout());

        Result renewed = deviceWithEnv(env, "renew", "--dir", hsmDir.toString(), "--pin-file", pinFile.toString());
        assertEquals(0, renewed.exitCode(), renewed.both());
        JsonNode after = JSON.readTree(deviceWithEnv(env, "status", "--dir", hsmDir.toString(), "--json",
                "--pin-file", pinFile.toString()).stdout());
        assertNotEquals(s.path("serial").asText(), after.path("serial").asText());
        assertEquals(after.path("serial").asText(), after.path("gateway").path("whoami").path("serial").asText());
    }

    JsonNode statusJson(Path cliDir) throws IOException {
        Result r = device("status", "--dir", cliDir.toString(), "--json");
        assertEquals(0, r.exitCode(), r.both());
        return JSON.readTree(r.stdout());
    }

    static Result device(String... args) {
        return deviceWithEnv(Map.of(), args);
    }

    static Result deviceWithEnv(Map<String, String> env, String... args) {
        String jar = System.getProperty("siteward.device.jar");
        if (jar == null || !Files.exists(Path.of(jar))) {
            throw new AssertionError("device jar not found at " + jar + " (run through mvn verify)");
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", jar));
        cmd.addAll(List.of(args));
        return Processes.run(work, env, cmd);
    }
}
