package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.device.DeviceIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared inference end to end: the real gateway jar with its embedded broker, the demo vibration model signed,
 * published and released to class {@code sensor}, devices enrolled with the SDK; results compared with the numpy
 * vectors committed beside models/demo/make_models.py.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InferenceIT {

    /**
     * The load tests publish as fast as the broker acknowledges: the per-device MQTT message quota (100/s, burst 200
     * by default; DeviceLimitsIT covers it) is raised so it does not cut a load test's producer short.
     */
    static final Map<String, String> LOAD_ENV = Map.of("SITEWARD_INFERENCE_PER_DEVICE_QUEUE", "4096",
            "SITEWARD_LIMITS_MQTT_MESSAGES_PER_SECOND", "1000000", "SITEWARD_LIMITS_MQTT_MESSAGE_BURST", "1000000");

    @TempDir
    static Path work;
    static GatewayProcess gateway;
    static JsonNode vectors;
    static DeviceIdentity vib1;
    static DeviceIdentity vib2;
    static final ObjectMapper JSON = new ObjectMapper();

    static Path demo() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("models/demo/vectors"))) {
                return p.resolve("models/demo");
            }
        }
        throw new IllegalStateException("models/demo not found");
    }

    @BeforeAll
    static void publishReleaseAndEnroll() throws Exception {
        Tools.require("mosquitto_pub", "mosquitto-clients");
        vectors = JSON.readTree(demo().resolve("vectors/vibration.json").toFile());
        assertEquals(0, Processes.run(work, Map.of(), Processes.siteward("model", "keygen", "--out",
                work.resolve("demo").toString(), "--name", "demo")).exitCode());
        // one streaming device must not be shed in these tests (the fairness limit is DynamicBatcherTest's subject)
        gateway = GatewayProcess.start(work.resolve("data"), LOAD_ENV);
        Processes.Result add = gateway.cli("publisher", "add", "demo-team", "--roots",
                work.resolve("demo/publisher-cert.pem").toString(), "--models", "demo/*");
        assertEquals(0, add.exitCode(), add.both());
        publish("vibration-v1", 1);
        Processes.Result rel = gateway.cli("model", "release", "demo/vibration", "--version", "1", "--channel",
                "stable", "--classes", "sensor");
        assertEquals(0, rel.exitCode(), rel.both());
        vib1 = MqttDevices.enroll(gateway, work, "vib-1");
        vib2 = MqttDevices.enroll(gateway, work, "vib-2");
    }

    static void publish(String dir, long version) throws Exception {
        Path model = Files.createDirectories(work.resolve(dir));
        for (String f : List.of("model.onnx", "siteward-model.yaml")) {
            Files.copy(demo().resolve(dir).resolve(f), model.resolve(f));
        }
        Path sig = work.resolve(dir + ".sig");
        Processes.Result sign = Processes.run(work, Map.of(), Processes.siteward("model", "sign", model.toString(),
                "--key", work.resolve("demo/publisher-key.pem").toString(), "--cert-chain",
                work.resolve("demo/publisher-cert.pem").toString(), "--out", sig.toString()));
        assertEquals(0, sign.exitCode(), sign.both());
        Processes.Result pub = gateway.cli("model", "publish", model.toString(), "--signature", sig.toString(),
                "--name", "demo/vibration", "--version", String.valueOf(version));
        assertEquals(0, pub.exitCode(), pub.both());
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    static String reading(long seq, JsonNode features) {
        return "{\"seq\":" + seq + ",\"ts\":\"2026-11-27T10:00:00Z\",\"features\":" + features + "}";
    }

    @Test
    @Order(1)
    void resultsOverTheEmbeddedBrokerMatchTheNumpyVectorsWithKOfNDecisions() throws Exception {
        JsonNode v1 = vectors.get("v1");
        try (MqttDevices.Client c = MqttDevices.Client.connect(gateway.mqttPort(), vib1, "vib-1")) {
            assertEquals(1, c.subscribe("siteward/sensors/vib-1/inference"));
            int n = v1.get("features").size();
            for (int i = 0; i < n; i++) {
                publish(c, "siteward/sensors/vib-1/readings", reading(i, v1.get("features").get(i)));
            }
            Map<Long, JsonNode> results = new HashMap<>();
            while (results.size() < n) {
                String m = c.received.poll(20, TimeUnit.SECONDS);
                assertNotNull(m, "result " + results.size() + " of " + n + " arrived");
                JsonNode r = JSON.readTree(m.substring(m.indexOf(' ') + 1));
                results.put(r.get("seq").asLong(), r);
            }
            for (int i = 0; i < n; i++) {
                JsonNode r = results.get((long) i);
                assertEquals("demo/vibration", r.get("model").asText());
                assertEquals(1, r.get("version").asLong());
                assertEquals(v1.get("anomaly").get(i).asDouble(), r.at("/outputs/anomaly").asDouble(), 1e-5,
                        "seq " + i);
                assertEquals(v1.get("decisions").get(i).asText(), r.get("decision").asText(), "seq " + i);
                assertTrue(r.get("latency_ms").asDouble() >= 0);
            }
        }
    }

    @Test
    @Order(2)
    void responseTopicAndCorrelationDataAreHonouredAndAForeignResponseTopicIsRefused() throws Exception {
        JsonNode f = vectors.get("v1").get("features").get(0);
        try (MqttDevices.Client c = MqttDevices.Client.connect(gateway.mqttPort(), vib2, "vib-2")) {
            assertEquals(1, c.subscribe("siteward/sensors/vib-2/#"));
            MqttMessage m = new MqttMessage(reading(7, f).getBytes(), 1, false, new MqttProperties());
            m.getProperties().setResponseTopic("siteward/sensors/vib-2/replies/a");
            m.getProperties().setCorrelationData(new byte[] {1, 2, 3});
            c.paho.publish("siteward/sensors/vib-2/readings", m).waitForCompletion(10_000);
            MqttMessage foreign = new MqttMessage(reading(8, f).getBytes(), 1, false, new MqttProperties());
            foreign.getProperties().setResponseTopic("siteward/sensors/vib-1/inference");
            c.paho.publish("siteward/sensors/vib-2/readings", foreign).waitForCompletion(10_000);
            List<String> got = new ArrayList<>();
            while (got.stream().filter(s -> !s.startsWith("siteward/sensors/vib-2/readings")).count() < 2) {
                String s = c.received.poll(20, TimeUnit.SECONDS);
                assertNotNull(s, "got so far: " + got);
                got.add(s);
            }
            String reply = got.stream().filter(s -> s.startsWith("siteward/sensors/vib-2/replies/a ")).findFirst()
                    .orElseThrow(() -> new AssertionError(got.toString()));
            assertEquals(7, JSON.readTree(reply.substring(reply.indexOf(' ') + 1)).get("seq").asLong());
            String refused = got.stream().filter(s -> s.startsWith("siteward/sensors/vib-2/errors ")).findFirst()
                    .orElseThrow(() -> new AssertionError(got.toString()));
            JsonNode e = JSON.readTree(refused.substring(refused.indexOf(' ') + 1));
            assertEquals("response_topic_refused", e.get("code").asText());
            assertEquals(8, e.get("seq").asLong());
        }
    }

    @Test
    @Order(3)
    void everyErrorCodeIsProducedByABadReadingWhileAnotherDeviceStreamsAndGoodReadingsAreAnswered()
            throws Exception {
        Path pem = MqttDevices.pemFiles(vib1, work);
        Path big = work.resolve("big.json");
        Files.writeString(big, "{\"seq\":9,\"features\":[" + "0,".repeat(40_000) + "0]}");
        JsonNode v1 = vectors.get("v1");
        try (MqttDevices.Client streamer = MqttDevices.Client.connect(gateway.mqttPort(), vib2, "vib-2")) {
            assertEquals(1, streamer.subscribe("siteward/sensors/vib-2/inference"));
            Thread stream = new Thread(() -> {
                try {
                    for (int i = 0; i < 400; i++) {
                        publish(streamer, "siteward/sensors/vib-2/readings", reading(1000 + i,
                                v1.get("features").get(i % 64)));
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            stream.start();
            // mosquitto_rr publishes with the response topic given by -e and waits there: errors are published on
            // siteward/sensors/<id>/errors, so asking for that topic receives the refusal
            assertEquals("not_json", rr(pem, "errors", List.of("-m", "this is not json")).get("code").asText());
            JsonNode shape = rr(pem, "errors", List.of("-m", "{\"seq\":2,\"features\":[1,2,3]}"));
            assertEquals("bad_shape", shape.get("code").asText());
            assertEquals(2, shape.get("seq").asLong());
            assertEquals("expected 8 features, got 3", shape.get("message").asText());
            assertEquals("bad_shape", rr(pem, "errors", List.of("-m",
                    "{\"seq\":6,\"features\":[0,0,0,0,0,0,0,\"x\"]}")).get("code").asText());
            assertEquals("not_finite", rr(pem, "errors", List.of("-m",
                    "{\"seq\":3,\"features\":[1e999,0,0,0,0,0,0,0]}")).get("code").asText());
            assertEquals("out_of_range", rr(pem, "errors", List.of("-m",
                    "{\"seq\":4,\"features\":[0,0,0,0,0,0,0,1000]}")).get("code").asText());
            assertEquals("unknown_model", rr(pem, "errors", List.of("-m",
                    "{\"seq\":5,\"model\":\"demo/other\",\"features\":[0,0,0,0,0,0,0,0]}")).get("code").asText());
            // too large: mosquitto_rr 2.0.11 has no usable file payload option, so this one goes through Paho
            try (MqttDevices.Client c = MqttDevices.Client.connect(gateway.mqttPort(), vib1, "vib-1")) {
                assertEquals(1, c.subscribe("siteward/sensors/vib-1/errors"));
                publish(c, "siteward/sensors/vib-1/readings", Files.readString(big));
                String m = c.received.poll(20, TimeUnit.SECONDS);
                assertNotNull(m);
                assertEquals("too_large", JSON.readTree(m.substring(m.indexOf(' ') + 1)).get("code").asText());
            }
            for (int i = 0; i < 3; i++) {
                JsonNode good = rr(pem, "inference", List.of("-m", reading(100 + i, v1.get("features").get(i))));
                assertEquals(100 + i, good.get("seq").asLong());
                assertEquals(v1.get("anomaly").get(i).asDouble(), good.at("/outputs/anomaly").asDouble(), 1e-5);
            }
            stream.join(60_000);
            int answered = 0;
            while (answered < 400) {
                assertNotNull(streamer.received.poll(60, TimeUnit.SECONDS), "answered " + answered + " of 400");
                answered++;
            }
        }
        String metrics = curl("http://127.0.0.1:" + gateway.managementPort() + "/prometheus");
        for (String code : List.of("not_json", "bad_shape", "not_finite", "out_of_range", "unknown_model",
                "too_large")) {
            assertTrue(metrics.contains("code=\"" + code + "\"} "), code + " counted:\n" + metrics);
        }
        assertTrue(metrics.contains("siteward_inference_batch_size_count{model=\"demo/vibration\"}"), metrics);
        assertTrue(metrics.contains("siteward_inference_latency_ms_bucket{model=\"demo/vibration\",le=\"+Inf\"}"),
                metrics);
        assertTrue(metrics.contains("siteward_limit_refusals_total{limit=\"mqtt-messages\"} "), metrics);
        // the embedded broker's own counters: readings in, results out, nothing dropped at this rate
        assertTrue(java.util.regex.Pattern.compile("(?m)^siteward_mqtt_publishes_received_total [1-9][0-9]*$")
                .matcher(metrics).find(), metrics);
        assertTrue(java.util.regex.Pattern.compile("(?m)^siteward_mqtt_publishes_sent_total [1-9][0-9]*$")
                .matcher(metrics).find(), metrics);
        assertTrue(metrics.contains("\nsiteward_mqtt_messages_dropped_total 0\n"), metrics);
        // the expiry watch contributes its own families beside the inference and limit metrics
        assertTrue(java.util.regex.Pattern.compile("(?m)^siteward_certificate_expiry_seconds\\{kind=\"root\",name=\""
                + "[^\"]+\",serial=\"[0-9a-f]+\"} [1-9][0-9]+$").matcher(metrics).find(), metrics);
        assertTrue(metrics.contains("siteward_certificate_expiry_seconds{kind=\"server\","), metrics);
        assertTrue(metrics.contains("siteward_certificate_expiry_seconds{kind=\"admin\",name=\"admin\","), metrics);
        assertTrue(metrics.contains("\nsiteward_devices_expiring{window=\"7d\"} 0\n"), metrics);
        assertTrue(metrics.contains("\nsiteward_devices_renewal_failed 0\n"), metrics);
        assertTrue(metrics.contains("\nsiteward_clock_trusted 1\n"), metrics);
        assertTrue(metrics.contains("\nsiteward_clock_forward_jump_unconfirmed 0\n"), metrics);
        String health = curl("http://127.0.0.1:" + gateway.managementPort() + "/health");
        assertEquals("{\"status\":\"UP\",\"mqtt\":true,\"models\":{\"demo/vibration\":1}}", health);
    }

    static JsonNode rr(Path pem, String replyTo, List<String> payload) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("mosquitto_rr", "-V", "mqttv5", "-h", "localhost", "-p",
                String.valueOf(gateway.mqttPort()), "--cafile", pem.resolve("ca.pem").toString(), "--cert",
                pem.resolve("cert.pem").toString(), "--key", pem.resolve("key.pem").toString(), "-i", "vib-1",
                "-q", "1", "-t", "siteward/sensors/vib-1/readings", "-e", "siteward/sensors/vib-1/" + replyTo,
                "-W", "15"));
        cmd.addAll(payload);
        Processes.Result r = Processes.run(work, Map.of(), cmd);
        assertEquals(0, r.exitCode(), r.both());
        return JSON.readTree(r.stdout().strip());
    }

    static String curl(String url) {
        Processes.Result r = Processes.run(work, Map.of(), List.of("curl", "-sS", "--max-time", "10", url));
        assertEquals(0, r.exitCode(), r.both());
        return r.stdout();
    }

    @Test
    @Order(4)
    void aNewReleaseIsHotSwappedUnderLoadWithoutDroppingAReading() throws Exception {
        publish("vibration-v2", 2);
        JsonNode v2 = vectors.get("v2");
        try (MqttDevices.Client c = MqttDevices.Client.connect(gateway.mqttPort(), vib2, "vib-2")) {
            assertEquals(1, c.subscribe("siteward/sensors/vib-2/inference"));
            assertEquals(1, c.subscribe("siteward/sensors/vib-2/errors"));
            java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            Thread producer = new Thread(() -> {
                try {
                    for (int i = 0; !stop.get() && i < 200_000; i++) {
                        publish(c, "siteward/sensors/vib-2/readings",
                                reading(5000 + i, v2.get("features").get(i % 64)));
                        sent.incrementAndGet();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            producer.start();
            Processes.Result rel = gateway.cli("model", "release", "demo/vibration", "--version", "2", "--channel",
                    "stable", "--classes", "sensor");
            assertEquals(0, rel.exitCode(), rel.both());
            Map<Long, JsonNode> got = new HashMap<>();
            int afterSwap = -1;
            while (afterSwap < 0 || got.size() < afterSwap + 300) {
                String m = c.received.poll(20, TimeUnit.SECONDS);
                assertNotNull(m, "answered " + got.size() + " of " + sent.get());
                JsonNode r = JSON.readTree(m.substring(m.indexOf(' ') + 1));
                got.put(r.get("seq").asLong(), r);
                if (afterSwap < 0 && r.path("version").asLong() == 2) {
                    afterSwap = got.size();
                }
            }
            stop.set(true);
            producer.join(30_000);
            int total = sent.get();
            while (got.size() < total) {
                String m = c.received.poll(20, TimeUnit.SECONDS);
                assertNotNull(m, "answered " + got.size() + " of " + total);
                JsonNode r = JSON.readTree(m.substring(m.indexOf(' ') + 1));
                got.put(r.get("seq").asLong(), r);
            }
            java.util.Set<Long> unexpected = new java.util.TreeSet<>(got.keySet());
            unexpected.removeIf(seq -> seq >= 5000 && seq < 5000 + total);
            assertTrue(unexpected.isEmpty(), "answers to readings not sent here: "
                    + unexpected.stream().map(got::get).toList());
            for (long seq = 5000; seq < 5000 + total; seq++) {
                assertNotNull(got.get(seq), "reading " + seq + " answered");
                assertTrue(got.get(seq).has("version"), "reading " + seq + " has a result: " + got.get(seq));
            }
            long onV2 = got.values().stream().filter(r -> r.path("version").asLong() == 2).count();
            assertTrue(onV2 > 0, "version 2 served after the release");
            for (JsonNode r : got.values()) {
                if (r.get("version").asLong() == 2) {
                    int i = (int) ((r.get("seq").asLong() - 5000) % 64);
                    assertEquals(v2.get("anomaly").get(i).asDouble(), r.at("/outputs/anomaly").asDouble(), 1e-5);
                }
            }
        }
    }

    @Test
    @Order(5)
    void postInferOnTheDeviceListenerGoesThroughTheSameBatcher() throws Exception {
        Path pem = MqttDevices.pemFiles(vib1, work);
        JsonNode v2 = vectors.get("v2");
        List<String> base = List.of("curl", "-sS", "--max-time", "20", "--cacert", pem.resolve("ca.pem").toString(),
                "--cert", pem.resolve("cert.pem").toString(), "--key", pem.resolve("key.pem").toString(),
                "-H", "Content-Type: application/json", "-w", "\\n%{http_code}");
        List<String> ok = new ArrayList<>(base);
        ok.addAll(List.of("--data", reading(77, v2.get("features").get(5)),
                gateway.deviceUrl() + "/v1/infer/demo/vibration"));
        String[] r = Processes.run(work, Map.of(), ok).stdout().strip().split("\n");
        assertEquals("200", r[r.length - 1], String.join("\n", r));
        JsonNode result = JSON.readTree(r[0]);
        assertEquals(77, result.get("seq").asLong());
        assertEquals(2, result.get("version").asLong());
        assertEquals(v2.get("anomaly").get(5).asDouble(), result.at("/outputs/anomaly").asDouble(), 1e-5);
        List<String> unknown = new ArrayList<>(base);
        unknown.addAll(List.of("--data", reading(78, v2.get("features").get(5)),
                gateway.deviceUrl() + "/v1/infer/demo/other"));
        r = Processes.run(work, Map.of(), unknown).stdout().strip().split("\n");
        assertEquals("404", r[r.length - 1]);
        assertEquals("inference.unknown_model", JSON.readTree(r[0]).get("code").asText());
        List<String> bad = new ArrayList<>(base);
        bad.addAll(List.of("--data", "{\"seq\":79,\"features\":[1,2]}", gateway.deviceUrl()
                + "/v1/infer/demo/vibration"));
        r = Processes.run(work, Map.of(), bad).stdout().strip().split("\n");
        assertEquals("400", r[r.length - 1]);
        assertEquals("inference.bad_shape", JSON.readTree(r[0]).get("code").asText());
    }

    @Test
    @Order(6)
    void theSdkQueuesReadingsOnDiskAndAGatewayRestartLosesNoQos1Reading() throws Exception {
        DeviceIdentity vib3 = MqttDevices.enroll(gateway, work, "vib-3");
        JsonNode v2 = vectors.get("v2");
        Path queue = work.resolve("vib-3-queue");
        Map<Long, JsonNode> answers = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.function.BiConsumer<String, JsonNode> record = (topic, body) -> {
            if ("inference".equals(topic)) {
                answers.put(body.get("seq").asLong(), body);
            }
        };
        dev.siteward.device.sensors.SensorClient sdk = new dev.siteward.device.sensors.SensorClient(vib3,
                "ssl://localhost:" + gateway.mqttPort(), queue, 1000, java.time.Duration.ofSeconds(5),
                java.time.Clock.systemUTC(), record);
        sdk.start();
        for (int i = 0; i < 10; i++) {
            sdk.send(i, MqttDevicesFeatures.row(v2, i));
        }
        gateway.close();
        for (int i = 10; i < 40; i++) {
            sdk.send(i, MqttDevicesFeatures.row(v2, i));
        }
        assertTrue(sdk.queued() >= 30, "readings queued on disk while the gateway is down: " + sdk.queued());
        sdk.close();
        gateway = GatewayProcess.start(work.resolve("data"), LOAD_ENV);
        // the broker's port is new after the restart (tests use free ports): the device follows it
        try (dev.siteward.device.sensors.SensorClient again = new dev.siteward.device.sensors.SensorClient(vib3,
                "ssl://localhost:" + gateway.mqttPort(), queue, 1000, java.time.Duration.ofSeconds(5),
                java.time.Clock.systemUTC(), record)) {
            again.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (answers.size() < 40 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            for (long i = 0; i < 40; i++) {
                assertNotNull(answers.get(i), "reading " + i + " answered; got " + answers.keySet());
                assertEquals(v2.get("anomaly").get((int) i).asDouble(), answers.get(i).at("/outputs/anomaly")
                        .asDouble(), 1e-5);
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (again.queued() > 0 && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            assertEquals(0, again.queued(), "answered readings leave the queue");
        }
        // the CLI: readings from stdin, answers as JSON lines
        String jar = System.getProperty("siteward.device.jar");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", jar, "sense", "--dir", work.resolve("vib-3").toString(), "--mqtt-url",
                "mqtts://localhost:" + gateway.mqttPort(), "--first-seq", "500", "--wait", "30"));
        StringBuilder stdin = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            stdin.append(v2.get("features").get(i).toString()).append('\n');
        }
        stdin.append("1,2,3\n");
        Processes.Result r = Processes.run(work, Map.of(), cmd, stdin.toString().getBytes());
        assertEquals(0, r.exitCode(), r.both());
        List<JsonNode> lines = new ArrayList<>();
        for (String l : r.stdout().lines().toList()) {
            lines.add(JSON.readTree(l));
        }
        assertEquals(4, lines.size(), r.stdout());
        for (JsonNode l : lines) {
            long seq = l.get("seq").asLong();
            if (seq == 503) {
                assertEquals("errors", l.get("topic").asText());
                assertEquals("bad_shape", l.get("code").asText());
            } else {
                assertEquals("inference", l.get("topic").asText());
                assertEquals(v2.get("anomaly").get((int) (seq - 500)).asDouble(), l.at("/outputs/anomaly").asDouble(),
                        1e-5);
            }
        }
    }

    /** Feature rows of the vectors as arrays. */
    static final class MqttDevicesFeatures {
        static double[] row(JsonNode version, int i) {
            JsonNode r = version.get("features").get(i % 64);
            double[] out = new double[r.size()];
            for (int j = 0; j < out.length; j++) {
                out[j] = r.get(j).asDouble();
            }
            return out;
        }
    }

    /**
     * Publishes with QoS 1 and waits for the PUBACK; Paho 1.2.5 can report "too many publishes in progress" even
     * one at a time (it frees the slot after completing the token), so that one is retried.
     */
    static void publish(MqttDevices.Client c, String topic, String payload) throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                c.publish(topic, payload);
                return;
            } catch (org.eclipse.paho.mqttv5.common.MqttException e) {
                if (e.getReasonCode() != 32202 || attempt > 1000) {
                    throw e;
                }
                Thread.sleep(1);
            }
        }
    }
}
