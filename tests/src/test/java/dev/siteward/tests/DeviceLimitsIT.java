package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.device.DeviceIdentity;
import dev.siteward.tests.MqttDevices.Client;
import dev.siteward.tests.Processes.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-device abuse limits on the real gateway, with small limits set through {@code siteward.limits.*}: curl
 * runs a device into its request rate and its upload quota ({@code 429 request.rate_limited} with
 * {@code Retry-After}) and gets through again after the advised wait; a Paho MQTT 5 client publishing faster than
 * its message rate gets PUBACK 0x97 (Quota exceeded), stays connected, and publishes again after a pause. Waiting
 * here is real time because the limits follow the gateway's clock; the limit arithmetic itself is covered with an
 * injected clock in {@code DeviceQuotasTest}.
 */
class DeviceLimitsIT {

    private static final Map<String, String> ENV = Map.of("SITEWARD_CA_PASSPHRASE", "device limits passphrase");

    @TempDir
    static Path work;
    static GatewayProcess gw;

    @BeforeAll
    static void start() throws Exception {
        Tools.require("curl", "curl");
        gw = GatewayProcess.start(work.resolve("data"), ENV, List.of(
                "-Dsiteward.limits.device-requests-per-second=1",
                "-Dsiteward.limits.device-request-burst=4",
                "-Dsiteward.limits.device-upload-bytes-per-second=262144",
                "-Dsiteward.limits.device-upload-burst-bytes=1048576",
                "-Dsiteward.limits.mqtt-messages-per-second=1",
                "-Dsiteward.limits.mqtt-message-burst=3"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
    }

    private static List<String> curl(Path pem, String... extra) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--cacert", pem.resolve("ca.pem").toString(),
                "--cert", pem.resolve("cert.pem").toString(), "--key", pem.resolve("key.pem").toString()));
        cmd.addAll(List.of(extra));
        return cmd;
    }

    /** Status and Retry-After of {@code n} whoami calls on one connection, one line each. */
    private static List<String> burst(Path pem, int n) {
        List<String> cmd = curl(pem, "-w", "%{http_code} %header{retry-after}\\n");
        for (int i = 0; i < n; i++) {
            cmd.addAll(List.of("-o", "/dev/null", gw.deviceUrl() + "/v1/whoami"));
        }
        Result r = Processes.run(work, Map.of(), cmd);
        assertEquals(0, r.exitCode(), r.both());
        return r.stdout().lines().map(String::strip).toList();
    }

    @Test
    void aDeviceOverItsRequestRateGets429WithRetryAfterAndGetsThroughAfterWaiting() throws Exception {
        DeviceIdentity device = MqttDevices.enroll(gw, work, "lim-http");
        Path pem = MqttDevices.pemFiles(device, work);
        List<String> lines = burst(pem, 10);
        long ok = lines.stream().filter(l -> l.startsWith("200")).count();
        List<String> limited = lines.stream().filter(l -> l.startsWith("429")).toList();
        assertTrue(ok >= 1 && ok <= 5, "at most the burst (4) plus what refilled gets through: " + lines);
        assertEquals(10 - ok, limited.size(), "everything else is limited: " + lines);
        assertTrue(limited.stream().allMatch(l -> l.matches("429 [1-9][0-9]*")), "Retry-After on every 429: " + lines);

        Result body = Processes.run(work, Map.of(), curl(pem, gw.deviceUrl() + "/v1/whoami"));
        assertTrue(body.stdout().contains("\"code\":\"request.rate_limited\"") && body.stdout().contains("lim-http"),
                body.both());

        long retryAfter = Long.parseLong(limited.get(limited.size() - 1).split(" ")[1]);
        Thread.sleep(retryAfter * 1000 + 200);
        assertEquals(List.of("200"), burst(pem, 1).stream().map(l -> l.split(" ")[0]).toList(),
                "after Retry-After the device gets through");
    }

    @Test
    void aDeviceOverItsUploadQuotaIsRefusedBeforeTheBodyIsUsedAndRecovers() throws Exception {
        DeviceIdentity device = MqttDevices.enroll(gw, work, "lim-upload");
        Path pem = MqttDevices.pemFiles(device, work);
        Path body = work.resolve("600k.json");
        Files.writeString(body, "{\"pad\":\"" + "x".repeat(600 * 1024) + "\"}");
        List<String> first = List.of("-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json",
                "--data-binary", "@" + body, gw.deviceUrl() + "/v1/whoami");
        Result a = Processes.run(work, Map.of(), curl(pem, first.toArray(new String[0])));
        assertTrue(!a.stdout().equals("429"), "the first 600 KiB fit in the 1 MiB burst: " + a.both());
        Result b = Processes.run(work, Map.of(), curl(pem, "-i", "-H", "Content-Type: application/json",
                "--data-binary", "@" + body, gw.deviceUrl() + "/v1/whoami"));
        assertTrue(b.stdout().startsWith("HTTP/1.1 429") || b.stdout().startsWith("HTTP/2 429"), b.both());
        assertTrue(b.stdout().contains("\"code\":\"request.rate_limited\"") && b.stdout().contains("upload quota"),
                b.stdout().lines().limit(12).toList().toString());
        long retryAfter = b.stdout().lines().filter(l -> l.toLowerCase().startsWith("retry-after:"))
                .mapToLong(l -> Long.parseLong(l.substring(l.indexOf(':') + 1).strip())).findFirst().orElse(-1);
        assertTrue(retryAfter >= 1 && retryAfter <= 3, "the missing ~180 KiB at 256 KiB/s: " + retryAfter);
        Result small = Processes.run(work, Map.of(), curl(pem, "-o", "/dev/null", "-w", "%{http_code}",
                gw.deviceUrl() + "/v1/whoami"));
        assertEquals("200", small.stdout(), "a refused upload costs no request; bodiless calls still pass");
        Thread.sleep(retryAfter * 1000 + 200);
        Result c = Processes.run(work, Map.of(), curl(pem, first.toArray(new String[0])));
        assertTrue(!c.stdout().equals("429"), "recovered: " + c.both());
    }

    @Test
    void mqttPublishesOverTheMessageRateGetQuotaExceededAndTheClientStaysConnected() throws Exception {
        DeviceIdentity device = MqttDevices.enroll(gw, work, "lim-mqtt");
        try (Client c = Client.connect(gw.mqttPort(), device, "lim-mqtt")) {
            List<Integer> codes = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                codes.add(c.publishReason("siteward/sensors/lim-mqtt/readings", "{\"seq\":" + i + "}"));
            }
            assertTrue(codes.contains(0x97), "PUBACK 0x97 once over the burst of 3: " + codes);
            // 0x00 or 0x10 (no matching subscribers) are successes
            assertTrue(codes.subList(0, 3).stream().allMatch(code -> code < 0x80), codes.toString());
            assertTrue(c.paho.isConnected(), "a quota refusal does not disconnect");
            Thread.sleep(2_200);
            int again = c.publishReason("siteward/sensors/lim-mqtt/readings", "{\"seq\":99}");
            assertTrue(again < 0x80, "publishes again after a pause: " + again);
        }
    }
}
