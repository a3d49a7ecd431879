package dev.siteward.device.sensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.trust.PinnedRootTrustManager;
import dev.siteward.pki.SecureFiles;
import dev.siteward.pki.tls.NoDelaySocketFactory;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * A sensor's side of shared inference (docs/inference.md, docs/mqtt.md): publishes readings to
 * {@code siteward/sensors/<id>/readings} over MQTT 5 with the device certificate (client id = device id, the server
 * checked against the pinned site root), and receives results and errors.
 *
 * <p>Every reading is first written to a bounded on-disk queue ({@code <dir>/<seq>.json}, atomically) and removed
 * only when the gateway has answered it (a result, or an error other than {@code shed}). While the broker is
 * unreachable readings accumulate; when the queue is full the oldest is dropped and counted ({@link #dropped()}).
 * On every (re)connect, and for readings unanswered after {@code resendAfter}, queued readings are published again
 * with QoS 1 — so a gateway restart loses no reading; the gateway may answer one twice (match on {@code seq}).
 */
public final class SensorClient implements MqttCallback, AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String deviceId;
    private final Path queueDir;
    private final int maxQueued;
    private final Duration resendAfter;
    private final Clock clock;
    private final MqttAsyncClient client;
    private final MqttConnectionOptions options;
    private final BiConsumer<String, JsonNode> listener;
    private final Map<Long, Instant> sentAt = new ConcurrentHashMap<>();
    private final AtomicLong dropped = new AtomicLong();
    private final Object queueLock = new Object();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sensor-client");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param serverUri   e.g. {@code ssl://gateway.example:8883} (the {@code mqttUrl} of /.well-known/siteward)
     * @param queueDir    the on-disk queue (created 0700)
     * @param maxQueued   most readings kept while unanswered
     * @param resendAfter how long an unanswered reading waits before it is published again
     * @param listener    receives ({@code "inference"|"errors"|<response topic suffix>}, JSON) for every answer
     */
    public SensorClient(DeviceIdentity identity, String serverUri, Path queueDir, int maxQueued, Duration resendAfter,
                        Clock clock, BiConsumer<String, JsonNode> listener)
            throws IOException, GeneralSecurityException, MqttException {
        if (maxQueued < 1) {
            throw new IllegalArgumentException("maxQueued must be at least 1");
        }
        this.deviceId = identity.deviceId();
        this.queueDir = SecureFiles.createPrivateDirectory(queueDir);
        this.maxQueued = maxQueued;
        this.resendAfter = resendAfter;
        this.clock = clock;
        this.listener = listener;
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(identity.keyManagers(), new TrustManager[] {
            PinnedRootTrustManager.forRoots(identity.roots(clock.instant()), clock)}, null);
        this.client = new MqttAsyncClient(serverUri, deviceId, new MemoryPersistence());
        this.options = new MqttConnectionOptions();
        options.setSocketFactory(NoDelaySocketFactory.wrap(ssl.getSocketFactory()));
        options.setCleanStart(true);
        options.setAutomaticReconnect(false);
        options.setConnectionTimeout(10);
        client.setCallback(this);
    }

    /**
     * Starts connecting in the background, and keeps reconnecting (every second) and resending unanswered readings;
     * readings queue on disk meanwhile.
     */
    public void start() {
        ticker.scheduleWithFixedDelay(this::tick, 0, 1, TimeUnit.SECONDS);
    }

    private void tick() {
        try {
            if (!client.isConnected()) {
                client.connect(options).waitForCompletion(10_000);
            } else {
                flush();
            }
        } catch (MqttException | IOException | RuntimeException e) {
            // unreachable or refused: the readings stay queued; try again on the next tick
        }
    }

    /** Whether the client is connected now. */
    public boolean connected() {
        return client.isConnected();
    }

    /** Readings dropped because the queue was full (oldest first). */
    public long dropped() {
        return dropped.get();
    }

    /** Readings queued and not yet answered. */
    public int queued() throws IOException {
        return files().size();
    }

    /** Queues a reading on disk (dropping the oldest when full) and publishes it when connected. */
    public void send(long seq, double[] features) throws IOException {
        ObjectNode r = JSON.createObjectNode();
        r.put("seq", seq);
        r.put("ts", clock.instant().toString());
        var arr = r.putArray("features");
        for (double f : features) {
            arr.add(f);
        }
        synchronized (queueLock) {
            SecureFiles.writeAtomically(file(seq), JSON.writeValueAsBytes(r), true);
            TreeMap<Long, Path> all = files();
            while (all.size() > maxQueued) {
                Map.Entry<Long, Path> oldest = all.pollFirstEntry();
                Files.deleteIfExists(oldest.getValue());
                sentAt.remove(oldest.getKey());
                dropped.incrementAndGet();
            }
        }
        flush();
    }

    /**
     * Publishes every queued reading not sent since {@code resendAfter} (all of them after a reconnect); a start
     * that failed is retried here. Returns how many were published.
     */
    public int flush() throws IOException {
        if (!client.isConnected()) {
            return 0;
        }
        int n = 0;
        Instant now = clock.instant();
        for (Map.Entry<Long, Path> e : files().entrySet()) {
            Instant last = sentAt.get(e.getKey());
            if (last != null && now.isBefore(last.plus(resendAfter))) {
                continue;
            }
            byte[] payload;
            try {
                payload = Files.readAllBytes(e.getValue());
            } catch (NoSuchFileException gone) {
                continue;
            }
            if (!publish(payload)) {
                break;
            }
            sentAt.put(e.getKey(), now);
            n++;
        }
        return n;
    }

    private boolean publish(byte[] payload) {
        MqttMessage m = new MqttMessage(payload, 1, false, new MqttProperties());
        m.getProperties().setContentType("application/json");
        for (int attempt = 0; attempt < 2_000; attempt++) {
            try {
                client.publish("siteward/sensors/" + deviceId + "/readings", m);
                return true;
            } catch (MqttException e) {
                if (e.getReasonCode() != MqttClientException.REASON_CODE_MAX_INFLIGHT) {
                    return false;
                }
                try {
                    Thread.sleep(1);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return false;
    }

    private Path file(long seq) {
        return queueDir.resolve(String.format("%020d.json", seq));
    }

    private TreeMap<Long, Path> files() throws IOException {
        TreeMap<Long, Path> out = new TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(queueDir, "*.json")) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                try {
                    out.put(Long.parseLong(name.substring(0, name.length() - 5)), p);
                } catch (NumberFormatException ignored) {
                    // not a queued reading
                }
            }
        }
        return out;
    }

    @Override
    public void connectComplete(boolean reconnect, String serverURI) {
        try {
            String prefix = "siteward/sensors/" + deviceId + "/";
            client.subscribe(new MqttSubscription[] {new MqttSubscription(prefix + "inference", 1),
                    new MqttSubscription(prefix + "errors", 1)});
        } catch (MqttException e) {
            return;
        }
        sentAt.clear();
        Thread t = new Thread(() -> {
            try {
                flush();
            } catch (IOException ignored) {
                // the next send or flush tries again
            }
        }, "sensor-resend");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) {
        JsonNode body;
        try {
            body = JSON.readTree(message.getPayload());
        } catch (IOException e) {
            return;
        }
        String kind = topic.substring(topic.lastIndexOf('/') + 1);
        JsonNode seq = body.get("seq");
        boolean retry = "errors".equals(kind) && "shed".equals(body.path("code").asText());
        if (seq != null && seq.isIntegralNumber() && !retry) {
            synchronized (queueLock) {
                try {
                    Files.deleteIfExists(file(seq.asLong()));
                } catch (IOException ignored) {
                    // answered anyway; a resend is harmless
                }
                sentAt.remove(seq.asLong());
            }
        }
        listener.accept(kind, body);
    }

    @Override
    public void disconnected(MqttDisconnectResponse response) {
    }

    @Override
    public void mqttErrorOccurred(MqttException exception) {
    }

    @Override
    public void deliveryComplete(IMqttToken token) {
    }

    @Override
    public void authPacketArrived(int reasonCode, MqttProperties properties) {
    }

    /** Disconnects; queued readings stay on disk for the next client. */
    @Override
    public void close() {
        ticker.shutdownNow();
        try {
            if (client.isConnected()) {
                client.disconnect().waitForCompletion(2_000);
            }
            client.close(true);
        } catch (MqttException ignored) {
            // already gone
        }
    }

    /** The queued sequence numbers (oldest first). */
    public List<Long> queuedSeqs() throws IOException {
        return new ArrayList<>(files().keySet());
    }
}
