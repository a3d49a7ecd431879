package dev.siteward.tests;

import dev.siteward.device.DeviceIdentity;
import dev.siteward.tests.MqttDevices.Client;
import dev.siteward.tests.Processes.Result;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;

/**
 * MQTT benchmark (docs/benchmarks.md, "MQTT broker"): in one run, against the packaged gateway's embedded broker
 * and a real Mosquitto configured by {@code siteward mqtt mosquitto-config} (with a second gateway in external
 * mode): QoS 1 publish rate of 100-byte messages with one and with ten in flight, from the same Paho MQTT 5 client
 * code over mTLS; and the time from the admin API's revoke call to the device's client seeing its disconnect.
 * Run: {@code mvn -B -q -pl tests -am -Pbench-mqtt verify}. Properties: {@code bench.seconds} (per rate figure,
 * default 6), {@code bench.revokes} (devices revoked per broker, default 7).
 */
public final class MqttBench {

    private static final double SECONDS = Double.parseDouble(System.getProperty("bench.seconds", "6"));
    private static final int REVOKES = Integer.getInteger("bench.revokes", 7);
    private static final byte[] PAYLOAD = new byte[100];

    private MqttBench() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Files.createTempDirectory("mqtt-bench");
        Arrays.fill(PAYLOAD, (byte) 'x');
        List<String> summary = new ArrayList<>();
        Process mosquitto = null;
        // the broker alone: the gateway's inference client would consume the readings published here
        try (GatewayProcess embedded = GatewayProcess.start(work.resolve("embedded"),
                Map.of("SITEWARD_INFERENCE_ENABLED", "false"))) {
            Path data = work.resolve("external");
            Path conf = work.resolve("mosquitto");
            check(Processes.run(work, Map.of(), Processes.siteward("ca", "init", "--data-dir", data.toString())));
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            check(Processes.run(work, Map.of(), Processes.siteward("mqtt", "mosquitto-config", "--data-dir",
                    data.toString(), "--out", conf.toString(), "--port", String.valueOf(port), "--bind",
                    "127.0.0.1", "--user", "root", "--host", "localhost")));
            mosquitto = new ProcessBuilder("mosquitto", "-c", conf.resolve("mosquitto.conf").toString())
                    .redirectErrorStream(true).redirectOutput(work.resolve("mosquitto.log").toFile()).start();
            waitForPort(port);
            try (GatewayProcess external = GatewayProcess.start(data,
                    Map.of("SITEWARD_INFERENCE_ENABLED", "false"), List.of(
                    "-Dsiteward.mqtt.broker=external", "-Dsiteward.mqtt.mosquitto-dir=" + conf,
                    "-Dsiteward.mqtt.mosquitto-port=" + port))) {
                DeviceIdentity e = MqttDevices.enroll(embedded, work, "bench-e");
                DeviceIdentity m = MqttDevices.enroll(external, work, "bench-m");
                // warm-up both (JIT, TLS session caches), then alternate the measured rounds
                rate(embedded.mqttPort(), e, 10, 2);
                rate(port, m, 10, 2);
                double e1 = rate(embedded.mqttPort(), e, 1, SECONDS);
                double m1 = rate(port, m, 1, SECONDS);
                double e10 = rate(embedded.mqttPort(), e, 10, SECONDS);
                double m10 = rate(port, m, 10, SECONDS);
                summary.add(String.format(Locale.ROOT, "QoS 1, 100 B, 1 in flight:  embedded %.0f msg/s, mosquitto "
                        + "%.0f msg/s, ratio %.2f", e1, m1, e1 / m1));
                summary.add(String.format(Locale.ROOT, "QoS 1, 100 B, 10 in flight: embedded %.0f msg/s, mosquitto "
                        + "%.0f msg/s, ratio %.2f", e10, m10, e10 / m10));
                summary.add("revoke -> disconnect, embedded:  " + revokes(embedded, embedded.mqttPort(), work, "re"));
                summary.add("revoke -> disconnect, mosquitto: " + revokes(external, port, work, "rm"));
            }
        } finally {
            if (mosquitto != null) {
                mosquitto.destroy();
                mosquitto.waitFor(10, TimeUnit.SECONDS);
            }
        }
        System.out.println("== MQTT benchmark (load average " + Files.readString(Path.of("/proc/loadavg")).strip()
                + ")");
        summary.forEach(System.out::println);
    }

    /** Publishes for {@code seconds} with at most {@code window} unacknowledged QoS 1 messages; returns msg/s. */
    static double rate(int port, DeviceIdentity device, int window, double seconds) throws Exception {
        try (Client c = Client.connect(port, device, device.deviceId())) {
            Semaphore inFlight = new Semaphore(window);
            AtomicLong acked = new AtomicLong();
            AtomicLong failed = new AtomicLong();
            MqttActionListener done = new MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    acked.incrementAndGet();
                    inFlight.release();
                }

                @Override
                public void onFailure(IMqttToken token, Throwable exception) {
                    failed.incrementAndGet();
                    inFlight.release();
                }
            };
            String topic = "siteward/sensors/" + device.deviceId() + "/readings";
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            while (System.nanoTime() < end) {
                inFlight.acquire();
                MqttMessage msg = new MqttMessage(PAYLOAD);
                msg.setQos(1);
                while (true) {
                    try {
                        c.paho.publish(topic, msg, null, done);
                        break;
                    } catch (MqttException e) {
                        if (e.getReasonCode() != MqttClientException.REASON_CODE_MAX_INFLIGHT) {
                            throw e;
                        }
                        Thread.onSpinWait(); // Paho's "Too many publishes in progress": retry
                    }
                }
            }
            inFlight.acquire(window);
            double elapsed = (System.nanoTime() - start) / 1e9;
            if (failed.get() > 0) {
                throw new AssertionError(failed.get() + " publishes failed");
            }
            return acked.get() / elapsed;
        }
    }

    /** Enrolls, connects and revokes {@code REVOKES} devices one by one; returns median and max in ms. */
    static String revokes(GatewayProcess gateway, int port, Path work, String prefix) throws Exception {
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < REVOKES; i++) {
            DeviceIdentity d = MqttDevices.enroll(gateway, work, prefix + "-" + i);
            try (Client c = Client.connect(port, d, d.deviceId())) {
                c.subscribe("siteward/sensors/" + d.deviceId() + "/#");
                long before = System.nanoTime();
                var r = gateway.admin("POST", "devices/" + d.deviceId() + "/revoke", "{}");
                if (r.statusCode() != 200) {
                    throw new AssertionError("revoke failed: " + r.body());
                }
                ms.add((c.disconnectedAtNanos.get(10, TimeUnit.SECONDS) - before) / 1e6);
            }
        }
        List<Double> sorted = ms.stream().sorted().toList();
        return String.format(Locale.ROOT, "median %.0f ms, max %.0f ms over %d devices %s", sorted.get(
                sorted.size() / 2), sorted.get(sorted.size() - 1), sorted.size(), ms.stream().map(v -> String.format(
                Locale.ROOT, "%.0f", v)).toList());
    }

    private static void check(Result r) {
        if (r.exitCode() != 0) {
            throw new AssertionError(r.both());
        }
    }

    private static void waitForPort(int p) throws Exception {
        for (int i = 0; i < 100; i++) {
            try (Socket s = new Socket("127.0.0.1", p)) {
                return;
            } catch (java.io.IOException e) {
                Thread.sleep(100);
            }
        }
        throw new AssertionError("mosquitto did not listen on " + p);
    }
}
