package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.tests.Processes.Result;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shadow mode and inference under retention with the real gateway jar: vibration v1 released, a rollout of v2
 * started with {@code --shadow} whose first stage reaches no device, readings over MQTT 5 from an SDK-enrolled
 * device. The device gets only v1's answers (numpy scores); the rollout status shows the comparison the numpy
 * vectors predict (models/demo/shadow_vectors.py); aborting ends the shadow; readings and results retained by the
 * signed bundle are exported with {@code siteward data export}.
 */
class ShadowIT {

    @TempDir
    static Path work;
    static GatewayProcess gateway;
    static DeviceIdentity vib;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void publishReleaseAndEnroll() throws Exception {
        assertEquals(0, Processes.run(work, Map.of(), Processes.siteward("model", "keygen", "--out",
                work.resolve("demo").toString(), "--name", "demo")).exitCode());
        gateway = GatewayProcess.start(work.resolve("data"), Map.of("SITEWARD_INFERENCE_PER_DEVICE_QUEUE", "4096"));
        Result add = gateway.cli("publisher", "add", "demo-team", "--roots",
                work.resolve("demo/publisher-cert.pem").toString(), "--models", "demo/*");
        assertEquals(0, add.exitCode(), add.both());
        publish("vibration-v1", 1);
        publish("vibration-v2", 2);
        Result rel = gateway.cli("model", "release", "demo/vibration", "--version", "1", "--channel", "stable",
                "--classes", "sensor");
        assertEquals(0, rel.exitCode(), rel.both());
        vib = MqttDevices.enroll(gateway, work, "vib-s");
    }

    static void publish(String dir, long version) throws Exception {
        Path model = Files.createDirectories(work.resolve(dir));
        for (String f : List.of("model.onnx", "siteward-model.yaml")) {
            Files.copy(InferenceIT.demo().resolve(dir).resolve(f), model.resolve(f));
        }
        Path sig = work.resolve(dir + ".sig");
        Result sign = Processes.run(work, Map.of(), Processes.siteward("model", "sign", model.toString(), "--key",
                work.resolve("demo/publisher-key.pem").toString(), "--cert-chain",
                work.resolve("demo/publisher-cert.pem").toString(), "--out", sig.toString()));
        assertEquals(0, sign.exitCode(), sign.both());
        Result pub = gateway.cli("model", "publish", model.toString(), "--signature", sig.toString(), "--name",
                "demo/vibration", "--version", String.valueOf(version));
        assertEquals(0, pub.exitCode(), pub.both());
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    static String prometheus() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + gateway.managementPort() + "/prometheus")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    static String await(String what, java.util.concurrent.Callable<String> source, Predicate<String> done)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String last;
        do {
            last = source.call();
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        throw new AssertionError(what + " did not happen; last: " + last);
    }

    static long compared(String statusJson) {
        try {
            return JSON.readTree(statusJson).at("/shadow/compared").asLong(-1);
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    static void pushRetentionBundle() throws Exception {
        Path keys = work.resolve("keys");
        Result keygen = Processes.run(work, Map.of(), Processes.siteward("model", "keygen", "--out", keys.toString(),
                "--name", "security-team"));
        assertEquals(0, keygen.exitCode(), keygen.both());
        ModelCliIT.PublisherChain publisher = ModelCliIT.PublisherChain.create(work, keys.resolve("publisher.csr"));
        assertEquals(0, gateway.cli("publisher", "add", "secteam", "--roots", publisher.root().toString(),
                "--policies").exitCode());
        Path dir = Files.createDirectories(work.resolve("bundle"));
        Files.writeString(dir.resolve("retention.yaml"), """
                schemaVersion: 1
                rules: []
                retention:
                  classes:
                    sensor-readings:
                      fields: [seq, ts, features, model]
                      maxAge: 30d
                      minimise:
                        drop: [ts]
                      export:
                        fields: [seq, features, model]
                    inference-results:
                      fields: [seq, model, version, outputs, score, decision]
                      maxAge: 30d
                      export:
                        fields: [seq, model, version, score, decision]
                """);
        Result signed = Processes.run(work, Map.of(), Processes.siteward("policy", "sign", dir.toString(), "--key",
                keys.resolve("publisher-key.pem").toString(), "--cert-chain", publisher.chain().toString(),
                "--version", "1", "--expires", "1d"));
        assertEquals(0, signed.exitCode(), signed.both());
        Result push = gateway.cli("policy", "push", dir.toString());
        assertEquals(0, push.exitCode(), push.both());
    }

    @Test
    void aShadowRolloutIsComparedOnLiveReadingsTheDeviceGetsOnlyActiveResultsAndResultsAreRetained()
            throws Exception {
        pushRetentionBundle();
        JsonNode v = JSON.readTree(InferenceIT.demo().resolve("vectors/vibration-shadow.json").toFile());
        for (List<String> bad : List.of(List.of("--shadow-for", "2h"), List.of("--shadow", "--shadow-tolerance", "2"),
                List.of("--shadow", "--shadow-for", "0s"), List.of("--shadow", "--shadow-for", "31d"))) {
            List<String> args = new java.util.ArrayList<>(List.of("rollout", "start", "demo/vibration", "--version",
                    "2", "--channel", "stable", "--stages", "100%"));
            args.addAll(bad);
            Result refused = gateway.cli(args.toArray(new String[0]));
            assertEquals(2, refused.exitCode(), bad + ": " + refused.both());
            assertEquals(1, refused.stderr().strip().lines().count(), "one line: " + refused.stderr());
        }
        assertEquals(1, JSON.readTree(gateway.cli("rollout", "status", "--json").stdout()).size(),
                "only the release's record: the refused starts changed nothing");
        // the first stage selects no device: every device keeps v1 active while v2 runs in the shadow
        Result start = gateway.cli("rollout", "start", "demo/vibration", "--version", "2", "--channel", "stable",
                "--stages", "zone=nowhere,100%", "--soak", "1h", "--shadow", "--shadow-for", "2h");
        assertEquals(0, start.exitCode(), start.both());
        String id = start.stdout().strip();
        await("the shadow to start", ShadowIT::prometheus, m -> m.contains("siteward_inference_shadow_live 1"));

        int n = v.get("features").size();
        try (MqttDevices.Client c = MqttDevices.Client.connect(gateway.mqttPort(), vib, "vib-s")) {
            assertEquals(1, c.subscribe("siteward/sensors/vib-s/inference"));
            assertEquals(1, c.subscribe("siteward/sensors/vib-s/errors"));
            for (int i = 0; i < n; i++) {
                // one at a time: both models' k-of-n windows see the readings in the vectors' order, nothing shed
                InferenceIT.publish(c, "siteward/sensors/vib-s/readings", InferenceIT.reading(i,
                        v.get("features").get(i)));
                String m = c.received.poll(20, TimeUnit.SECONDS);
                assertNotNull(m, "answer to reading " + i);
                assertTrue(m.startsWith("siteward/sensors/vib-s/inference "), m);
                JsonNode r = JSON.readTree(m.substring(m.indexOf(' ') + 1));
                assertEquals(i, r.get("seq").asInt());
                assertEquals(1, r.get("version").asLong(), "only the active release answers: " + m);
                assertEquals(v.at("/active/anomaly/" + i).asDouble(), r.at("/outputs/anomaly").asDouble(), 1e-5);
                assertEquals(v.at("/active/decisions/" + i).asText(), r.get("decision").asText());
            }
            assertNull(c.received.poll(3, TimeUnit.SECONDS), "nothing of the shadow is published");
        }

        JsonNode status = JSON.readTree(await("the comparison in the rollout status", () -> gateway.cli("rollout",
                "status", id, "--json").stdout(), s -> compared(s) == n));
        JsonNode shadow = status.get("shadow");
        assertTrue(shadow.get("live").asBoolean());
        assertEquals(2, shadow.get("version").asLong());
        assertEquals(v.get("agreed").asLong(), shadow.get("agreed").asLong(), shadow.toString());
        assertEquals(v.get("decisionsEqual").asLong(), shadow.get("decisionsEqual").asLong(), shadow.toString());
        assertEquals(0, shadow.get("shed").asLong());
        assertEquals(0, shadow.get("shadowErrors").asLong());
        assertTrue(shadow.at("/shadowLatencyMs/p99").isNumber(), shadow.toString());
        assertTrue(shadow.at("/activeLatencyMs/p50").isNumber(), shadow.toString());
        Result text = gateway.cli("rollout", "status", id);
        assertTrue(text.stdout().contains("shadow: version 2 running"), text.stdout());
        assertTrue(text.stdout().contains("compared " + n + ", agreed " + v.get("agreed").asLong()), text.stdout());
        String metrics = prometheus();
        assertTrue(metrics.contains("siteward_inference_shadow_compared_total{model=\"demo/vibration\",version=\"2\","
                + "rollout=\"" + id + "\"} " + n), metrics);

        Result abort = gateway.cli("rollout", "abort", id);
        assertEquals(0, abort.exitCode(), abort.both());
        await("the shadow to end", ShadowIT::prometheus, m -> m.contains("siteward_inference_shadow_live 0"));
        assertTrue(gateway.cli("rollout", "status", id).stdout().contains("shadow: version 2 ended"));
        assertTrue(gateway.log().contains("shadow mode: ended for demo/vibration version 2"));

        await("every result stored", ShadowIT::prometheus,
                m -> m.contains("siteward_inference_stored_total{class=\"inference-results\"} " + n));
        Path out = work.resolve("results.ndjson");
        Result export = gateway.cli("data", "export", "--class", "inference-results", "--since", "1h", "--out",
                out.toString());
        assertEquals(0, export.exitCode(), export.both());
        List<String> lines = Files.readAllLines(out);
        assertEquals(n, lines.size());
        for (String line : lines) {
            JsonNode r = JSON.readTree(line).get("record");
            assertEquals(1, r.get("version").asLong(), line);
            int seq = r.get("seq").asInt();
            assertEquals(v.at("/active/anomaly/" + seq).asDouble(), r.get("score").asDouble(), 1e-5, line);
            assertNull(r.get("outputs"), "not an export field: " + line);
        }
        Result readings = gateway.cli("data", "export", "--class", "sensor-readings", "--since", "1h");
        assertEquals(0, readings.exitCode(), readings.both());
        assertEquals(n, readings.stdout().lines().count());
        assertTrue(prometheus().contains("siteward_inference_store_dropped_total 0"));
    }
}
