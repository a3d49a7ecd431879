package dev.siteward.tests;

import dev.siteward.device.Backoff;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.EnrollmentClient;
import dev.siteward.device.EnrollmentRequest;
import dev.siteward.device.RetryPolicy;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.tls.NoDelaySocketFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/** Devices enrolled with the real SDK, talking MQTT 5 over mTLS with Paho, or through mosquitto_pub/sub files. */
final class MqttDevices {

    private MqttDevices() {
    }

    /** Enrolls a device with a token from the admin API; its directory lies under {@code work}. */
    static DeviceIdentity enroll(GatewayProcess gateway, Path work, String deviceId) throws Exception {
        DeviceDirectory dir = new DeviceDirectory(work.resolve(deviceId));
        RetryPolicy retry = new RetryPolicy(new Backoff(Duration.ofMillis(200), Duration.ofSeconds(1), new Random()),
                3, d -> Thread.sleep(d.toMillis()));
        return new EnrollmentClient(Clock.systemUTC(), retry).enroll(EnrollmentRequest.of(
                gateway.enrollUrl().toString(), gateway.token(deviceId, "class=sensor"), gateway.rootFingerprint()),
                dir, new Pkcs12DeviceKeyStore(dir.keysDir(), Clock.systemUTC()));
    }

    /** Writes the device's certificate chain, PKCS#8 key and the site root as PEM files for mosquitto's clients. */
    static Path pemFiles(DeviceIdentity device, Path work) throws Exception {
        Path dir = Files.createDirectories(work.resolve(device.deviceId() + "-pem"));
        Files.writeString(dir.resolve("cert.pem"), PemCodec.certificates(device.chain()));
        Files.writeString(dir.resolve("key.pem"), KeyMaterial.toPem(device.privateKey()));
        Files.writeString(dir.resolve("ca.pem"), PemCodec.certificates(List.of(device.root())));
        return dir;
    }

    static SSLContext sslContext(DeviceIdentity device) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(device.keyManagers(), trustRoot(device.root()), null);
        return ctx;
    }

    static javax.net.ssl.TrustManager[] trustRoot(java.security.cert.X509Certificate root) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("root", root);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        return tmf.getTrustManagers();
    }

    /** A connected Paho MQTT 5 client that records what it receives and when it was disconnected. */
    static final class Client implements MqttCallback, AutoCloseable {
        final MqttAsyncClient paho;
        final BlockingQueue<String> received = new LinkedBlockingQueue<>();
        final CompletableFuture<Long> disconnectedAtNanos = new CompletableFuture<>();
        volatile int disconnectReason = -1;

        Client(String uri, String clientId, SSLContext ssl) throws MqttException {
            this(uri, clientId, ssl, null);
        }

        /** Connects; {@code willTopic}, when not null, carries a last-will message. */
        Client(String uri, String clientId, SSLContext ssl, String willTopic) throws MqttException {
            paho = new MqttAsyncClient(uri, clientId, new MemoryPersistence());
            paho.setCallback(this);
            MqttConnectionOptions o = new MqttConnectionOptions();
            if (willTopic != null) {
                o.setWill(willTopic, new MqttMessage("gone".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            }
            o.setSocketFactory(NoDelaySocketFactory.wrap(ssl.getSocketFactory()));
            o.setCleanStart(true);
            o.setConnectionTimeout(10);
            o.setAutomaticReconnect(false);
            paho.connect(o).waitForCompletion(15_000);
        }

        static Client connect(int port, DeviceIdentity device, String clientId) throws Exception {
            return connect("localhost", port, device, clientId);
        }

        static Client connect(String host, int port, DeviceIdentity device, String clientId) throws Exception {
            return new Client("ssl://" + host + ":" + port, clientId, sslContext(device));
        }

        /** Publishes with QoS 1 and waits for the PUBACK. */
        void publish(String topic, String payload) throws MqttException {
            int reason = publishReason(topic, payload);
            if (reason >= 0x80) {
                throw new MqttException(reason);
            }
        }

        /** Publishes with QoS 1; returns the PUBACK reason code (0 success, 0x87 not authorized). */
        int publishReason(String topic, String payload) throws MqttException {
            MqttMessage m = new MqttMessage(payload.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            m.setQos(1);
            try {
                IMqttToken t = paho.publish(topic, m);
                t.waitForCompletion(10_000);
                int[] codes = t.getReasonCodes();
                return codes == null || codes.length == 0 ? 0 : codes[0];
            } catch (MqttException e) {
                return e.getReasonCode();
            }
        }

        /** Subscribes with QoS 1; returns the SUBACK reason code. */
        int subscribe(String filter) throws MqttException {
            IMqttToken t = paho.subscribe(filter, 1);
            t.waitForCompletion(10_000);
            return t.getReasonCodes()[0];
        }

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            disconnectReason = response.getReturnCode();
            disconnectedAtNanos.complete(System.nanoTime());
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            received.add(topic + " " + new String(message.getPayload(), java.nio.charset.StandardCharsets.UTF_8));
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
        }

        @Override
        public void close() {
            try {
                if (paho.isConnected()) {
                    paho.disconnect(2_000).waitForCompletion(3_000);
                }
                paho.close(true);
            } catch (MqttException ignored) {
                // already gone
            }
        }
    }
}
