package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.device.DeviceIdentity;
import dev.siteward.tests.MqttDevices.Client;
import dev.siteward.tests.Processes.Result;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded MQTT 5 broker of the packaged gateway ({@code siteward serve}), with devices enrolled through the SDK,
 * a Paho MQTT 5 client and the real {@code mosquitto_pub}/{@code mosquitto_sub} ({@code -V mqttv5}): identity from
 * the certificate, topic rights per device, and the cut-off of revoked and suspended devices.
 */
class MqttBrokerIT {

    @TempDir
    static Path work;
    static GatewayProcess gateway;
    static DeviceIdentity alpha;
    static DeviceIdentity beta;

    @BeforeAll
    static void start() throws Exception {
        // the gateway's own inference client would hold the service/gateway session this test takes over
        gateway = GatewayProcess.start(work.resolve("gateway-data"), Map.of("SITEWARD_INFERENCE_ENABLED", "false"));
        alpha = MqttDevices.enroll(gateway, work, "vib-alpha");
        beta = MqttDevices.enroll(gateway, work, "vib-beta");
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void theListeningLineAndSiteDiscoveryNameTheBroker() throws Exception {
        assertTrue(gateway.mqttPort() > 0, "listening line carries mqtt=<port>");
        HttpResponse<String> r = HttpClient.newBuilder().sslContext(MqttDevices.sslContext(alpha)).build()
                .send(HttpRequest.newBuilder(URI.create(gateway.enrollUrl() + "/.well-known/siteward")).build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("\"mqttUrl\":\"mqtts://") && r.body().contains(":" + gateway.mqttPort() + "\""),
                r.body());
    }

    @Test
    void aDevicePublishesAndSubscribesUnderItsOwnPrefix() throws Exception {
        try (Client c = Client.connect(gateway.mqttPort(), alpha, "vib-alpha")) {
            assertEquals(1, c.subscribe("siteward/sensors/vib-alpha/#"));
            c.publish("siteward/sensors/vib-alpha/readings", "{\"seq\":1,\"ts\":\"2026-01-01T00:00:00Z\","
                    + "\"features\":[0.5]}");
            assertEquals("siteward/sensors/vib-alpha/readings {\"seq\":1,\"ts\":\"2026-01-01T00:00:00Z\","
                    + "\"features\":[0.5]}", c.received.poll(5, TimeUnit.SECONDS));
        }
        // the real mosquitto clients with the device's certificate (one connection per client id at a time: a
        // retained message carries the reading from mosquitto_pub to mosquitto_sub)
        Path pem = MqttDevices.pemFiles(alpha, work);
        Result pub = Processes.run(work, Map.of(), mosquitto("mosquitto_pub", pem, "vib-alpha", "-q", "1", "-r",
                "-t", "siteward/sensors/vib-alpha/status", "-m", "online"));
        assertEquals(0, pub.exitCode(), pub.both());
        Result sub = Processes.run(work, Map.of(), mosquitto("mosquitto_sub", pem, "vib-alpha", "-C", "1", "-W",
                "10", "-v", "-t", "siteward/sensors/vib-alpha/status"));
        assertEquals(0, sub.exitCode(), sub.both());
        assertEquals("siteward/sensors/vib-alpha/status online", sub.stdout().strip());
    }

    static List<String> mosquitto(String tool, Path pem, String clientId, String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(tool, "-V", "mqttv5", "-h", "localhost", "-p",
                String.valueOf(gateway.mqttPort()), "--cafile", pem.resolve("ca.pem").toString(), "--cert",
                pem.resolve("cert.pem").toString(), "--key", pem.resolve("key.pem").toString(), "-i", clientId));
        cmd.addAll(List.of(args));
        return cmd;
    }

    @Test
    void aDeviceCannotSubscribeToAnotherDevicesTopicsOrToEveryDevice() throws Exception {
        try (Client c = Client.connect(gateway.mqttPort(), alpha, "vib-alpha")) {
            assertEquals(0x87, c.subscribe("siteward/sensors/vib-beta/#"));
            assertEquals(0x87, c.subscribe("siteward/sensors/+/readings"));
            assertEquals(0x87, c.subscribe("#"));
            assertEquals(0x87, c.subscribe("$share/siteward/siteward/sensors/+/readings"));
        }
    }

    @Test
    void aPublishIntoAnotherDevicesPrefixIsRefusedAndNeverDelivered() throws Exception {
        try (Client victim = Client.connect(gateway.mqttPort(), beta, "vib-beta");
             Client intruder = Client.connect(gateway.mqttPort(), alpha, "vib-alpha")) {
            assertEquals(1, victim.subscribe("siteward/sensors/vib-beta/#"));
            int reason = intruder.publishReason("siteward/sensors/vib-beta/inference", "fake");
            assertTrue(reason >= 0x80, "PUBACK refuses the publish (0x87), was " + reason);
            assertNull(victim.received.poll(1, TimeUnit.SECONDS), "nothing reaches the other device");
            intruder.disconnectedAtNanos.get(5, TimeUnit.SECONDS);
        }
        // with mosquitto_pub too
        Path pem = MqttDevices.pemFiles(alpha, work);
        Result pub = mosquittoPub(pem, "vib-alpha", "siteward/sensors/vib-beta/readings");
        assertTrue(pub.both().contains("Not authorized") || pub.exitCode() != 0, pub.both());
    }

    @Test
    void aClientIdOtherThanTheCertificatesDeviceIdIsRefused() throws Exception {
        MqttException e = assertThrows(MqttException.class,
                () -> Client.connect(gateway.mqttPort(), alpha, "vib-beta"));
        assertEquals(0x85, e.getReasonCode(), e.toString());
        Result pub = mosquittoPub(MqttDevices.pemFiles(alpha, work), "someone-else",
                "siteward/sensors/someone-else/readings");
        assertNotEquals(0, pub.exitCode(), pub.both());
    }

    @Test
    void theGatewayServiceReadsReadingsThroughItsSharedSubscriptionAndAnswersIntoTheDevicesPrefix() throws Exception {
        java.security.KeyPair keys = dev.siteward.pki.KeyMaterial.generate(
                dev.siteward.pki.KeyMaterial.Algorithm.EC_P256);
        Path csr = work.resolve("service.csr");
        java.nio.file.Files.writeString(csr, dev.siteward.pki.KeyMaterial.certificationRequestPem(
                dev.siteward.pki.KeyMaterial.certificationRequest(keys, "gateway")));
        Path chain = work.resolve("service.pem");
        Result issued = gateway.cli("ca", "issue", "--csr", csr.toString(), "--profile", "service", "--name",
                "gateway", "--out", chain.toString());
        assertEquals(0, issued.exitCode(), issued.both());
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        java.security.PrivateKey jdkKey = java.security.KeyFactory.getInstance("EC").generatePrivate(
                new java.security.spec.PKCS8EncodedKeySpec(keys.getPrivate().getEncoded()));
        ks.setKeyEntry("service", jdkKey, new char[0], dev.siteward.pki.PemCodec.parseCertificates(
                java.nio.file.Files.readString(chain)).toArray(new java.security.cert.Certificate[0]));
        javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance("PKIX");
        kmf.init(ks, new char[0]);
        javax.net.ssl.SSLContext ssl = javax.net.ssl.SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), MqttDevices.trustRoot(alpha.root()), null);
        String uri = "ssl://localhost:" + gateway.mqttPort();
        MqttException wrongId = assertThrows(MqttException.class, () -> new Client(uri, "gateway", ssl).close());
        assertEquals(0x85, wrongId.getReasonCode(), "a service uses the client id service/<name>");
        try (Client service = new Client(uri, "service/gateway", ssl);
             Client device = Client.connect(gateway.mqttPort(), alpha, "vib-alpha")) {
            assertEquals(0x87, service.subscribe("siteward/sensors/+/readings"), "only through the shared group");
            assertEquals(1, service.subscribe("$share/siteward/siteward/sensors/+/readings"));
            assertEquals(1, device.subscribe("siteward/sensors/vib-alpha/inference"));
            device.publish("siteward/sensors/vib-alpha/readings", "{\"seq\":7}");
            assertEquals("siteward/sensors/vib-alpha/readings {\"seq\":7}", service.received.poll(5,
                    TimeUnit.SECONDS));
            service.publish("siteward/sensors/vib-alpha/inference", "{\"seq\":7,\"outputs\":{}}");
            assertEquals("siteward/sensors/vib-alpha/inference {\"seq\":7,\"outputs\":{}}",
                    device.received.poll(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void aLastWillIntoAnotherDevicesPrefixIsRefusedAtConnect() throws Exception {
        try (Client victim = Client.connect(gateway.mqttPort(), beta, "vib-beta")) {
            assertEquals(1, victim.subscribe("siteward/sensors/vib-beta/#"));
            assertThrows(MqttException.class, () -> new Client("ssl://localhost:" + gateway.mqttPort(), "vib-alpha",
                    MqttDevices.sslContext(alpha), "siteward/sensors/vib-beta/status").close());
            assertNull(victim.received.poll(1, TimeUnit.SECONDS), "no will reaches the other device");
        }
    }

    @Test
    void anUnknownBrokerModeRefusesStartUpWithOneLine() throws Exception {
        Result r = Processes.run(work, Map.of("SITEWARD_MQTT_BROKER", "bogus"), Processes.siteward("serve",
                "--data-dir", work.resolve("bogus-data").toString(), "--enroll-port", "0", "--device-port", "0",
                "--mqtt-port", "0"));
        assertEquals(2, r.exitCode(), r.both());
        assertTrue(r.stderr().contains("siteward.mqtt.broker must be embedded or external"), r.stderr());
        assertTrue(!r.stderr().contains("\tat "), "no stack trace: " + r.stderr());
    }

    @Test
    void aClientWithoutACertificateCannotConnect() {
        Result pub = Processes.run(work, Map.of(), List.of("mosquitto_pub", "-V", "mqttv5", "-h", "localhost", "-p",
                String.valueOf(gateway.mqttPort()), "--insecure", "--cafile", "/etc/ssl/certs/ca-certificates.crt",
                "-i", "vib-alpha", "-t", "siteward/sensors/vib-alpha/readings", "-m", "x"));
        assertNotEquals(0, pub.exitCode(), pub.both());
    }

    @Test
    void aRevokedDeviceIsCutOffWithinOneSecondAndCannotReconnect() throws Exception {
        DeviceIdentity gamma = MqttDevices.enroll(gateway, work, "vib-gamma");
        try (Client c = Client.connect(gateway.mqttPort(), gamma, "vib-gamma")) {
            assertEquals(1, c.subscribe("siteward/sensors/vib-gamma/#"));
            long before = System.nanoTime();
            var r = gateway.admin("POST", "devices/vib-gamma/revoke", "{\"reason\":\"keyCompromise\"}");
            assertEquals(200, r.statusCode(), r.body());
            long at = c.disconnectedAtNanos.get(5, TimeUnit.SECONDS);
            long millis = (at - before) / 1_000_000;
            System.out.println("mqtt-embedded revoke->disconnect ms=" + millis);
            assertTrue(millis < 1000, "cut off within 1 s, took " + millis + " ms");
        }
        MqttException e = assertThrows(MqttException.class,
                () -> Client.connect(gateway.mqttPort(), gamma, "vib-gamma"));
        assertEquals(0x8A, e.getReasonCode(), "reconnect refused as banned: " + e);
    }

    @Test
    void aSuspendedDeviceIsCutOffAndRefusedUntilResumed() throws Exception {
        DeviceIdentity delta = MqttDevices.enroll(gateway, work, "vib-delta");
        try (Client c = Client.connect(gateway.mqttPort(), delta, "vib-delta")) {
            long before = System.nanoTime();
            assertEquals(200, gateway.admin("POST", "devices/vib-delta/suspend", "{}").statusCode());
            long at = c.disconnectedAtNanos.get(5, TimeUnit.SECONDS);
            assertTrue((at - before) / 1_000_000 < 1000, "cut off within 1 s");
        }
        MqttException e = assertThrows(MqttException.class,
                () -> Client.connect(gateway.mqttPort(), delta, "vib-delta"));
        assertEquals(0x8A, e.getReasonCode(), e.toString());
        assertEquals(200, gateway.admin("POST", "devices/vib-delta/resume", "{}").statusCode());
        try (Client again = Client.connect(gateway.mqttPort(), delta, "vib-delta")) {
            assertTrue(again.paho.isConnected());
        }
    }

    private static Result mosquittoPub(Path pem, String clientId, String topic) {
        return Processes.run(work, Map.of(), mosquitto("mosquitto_pub", pem, clientId, "-q", "1", "-t", topic, "-m",
                "x"));
    }
}
