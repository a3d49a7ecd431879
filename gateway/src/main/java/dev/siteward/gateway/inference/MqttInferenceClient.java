package dev.siteward.gateway.inference;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import dev.siteward.pki.tls.NoDelaySocketFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's inference client on the broker (docs/mqtt.md): Paho MQTT v5 over mTLS with the gateway's
 * {@code service} certificate, subscribed to {@code $share/siteward/siteward/sensors/+/readings} (several gateways on
 * one external broker split the load). Each reading goes to {@link InferenceService}; the result is published on the
 * reading's MQTT 5 response topic when it lies under the sender's own {@code siteward/sensors/<id>/} prefix, else
 * on {@code siteward/sensors/<id>/inference}, with the correlation data echoed; refusals go to
 * {@code siteward/sensors/<id>/errors} as {@code {"seq","code","message"}}.
 */
public final class MqttInferenceClient implements MqttCallback, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MqttInferenceClient.class);
    /** The shared subscription the gateway's inference client takes. */
    public static final String SUBSCRIPTION = "$share/siteward/siteward/sensors/+/readings";
    private static final Pattern READINGS = Pattern.compile("siteward/sensors/([^/+#]+)/readings");
    private static final int OUTBOX = 65_536;

    private final MqttAsyncClient client;
    private final MqttConnectionOptions options;
    private final InferenceService service;
    private final int maxPayload;
    private final ObjectMapper json = new ObjectMapper();
    private final ObjectMapper cbor = new ObjectMapper(new CBORFactory());
    /** Replies waiting for Paho's in-flight window, in order; guarded by itself. */
    private final ArrayDeque<Outgoing> outbox = new ArrayDeque<>();
    /** Whether the publisher thread holds a reply it took from the outbox (guarded by the outbox). */
    private boolean holding;
    private final Thread publisher;
    private volatile boolean running = true;
    private volatile boolean relay;

    public MqttInferenceClient(String serverUri, String serviceName, PrivateKey key, List<X509Certificate> chain,
                               X509Certificate root, InferenceService service, int maxPayload)
            throws MqttException, GeneralSecurityException, IOException {
        this.service = service;
        this.maxPayload = maxPayload;
        this.client = new MqttAsyncClient(serverUri, "service/" + serviceName, new MemoryPersistence());
        this.options = new MqttConnectionOptions();
        options.setSocketFactory(NoDelaySocketFactory.wrap(sslContext(key, chain, root).getSocketFactory()));
        options.setAutomaticReconnect(true);
        options.setAutomaticReconnectDelay(1, 10);
        options.setCleanStart(true);
        options.setConnectionTimeout(10);
        options.setReceiveMaximum(1000);
        client.setCallback(this);
        this.publisher = new Thread(this::publishLoop, "inference-publisher");
        publisher.setDaemon(true);
        publisher.start();
    }

    /**
     * Connects, waiting up to {@code millis} for the first connection; when the broker is not reachable yet (an
     * external broker started after the gateway) it keeps trying every 2 s in the background, and Paho reconnects
     * after any later loss. Returns whether the first attempt connected.
     */
    public boolean start(long millis) {
        try {
            client.connect(options).waitForCompletion(millis);
            return true;
        } catch (MqttException e) {
            LOG.warn("inference: cannot connect to the broker yet ({}); retrying every 2 s", e.toString());
            Thread retry = new Thread(() -> {
                while (running && !client.isConnected()) {
                    try {
                        Thread.sleep(2_000);
                        client.connect(options).waitForCompletion(millis);
                    } catch (MqttException again) {
                        LOG.debug("inference: connect failed: {}", again.toString());
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }, "inference-connect");
            retry.setDaemon(true);
            retry.start();
            return false;
        }
    }

    /**
     * Benchmark baseline ({@code siteward.inference.relay}): valid readings are answered with {@code {"seq",
     * "relay":true}} on their result topic, without a model; parsing, checks and replies stay as for inference.
     */
    public void relayOnly(boolean on) {
        if (on) {
            LOG.warn("inference: RELAY MODE (benchmark baseline): readings are echoed, no model runs");
        }
        this.relay = on;
    }

    /** Whether the client is connected to the broker. */
    public boolean connected() {
        return client.isConnected();
    }

    @Override
    public void connectComplete(boolean reconnect, String serverURI) {
        try {
            client.subscribe(new MqttSubscription(SUBSCRIPTION, 1));
            LOG.info("inference: subscribed to {} on {}", SUBSCRIPTION, serverURI);
        } catch (MqttException e) {
            LOG.error("inference: cannot subscribe to {}: {}", SUBSCRIPTION, e.toString());
        }
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) {
        Matcher m = READINGS.matcher(topic);
        if (!m.matches()) {
            return;
        }
        String device = m.group(1);
        String prefix = "siteward/sensors/" + device + "/";
        MqttProperties in = message.getProperties();
        byte[] correlation = in == null ? null : in.getCorrelationData();
        String responseTopic = in == null ? null : in.getResponseTopic();
        byte[] payload = message.getPayload();
        if (payload.length > maxPayload) {
            refuse(device, null, ReadingError.TOO_LARGE, "payload of " + payload.length + " bytes is over the limit of "
                    + maxPayload, correlation);
            return;
        }
        boolean isCbor = in != null && in.getContentType() != null
                && in.getContentType().strip().toLowerCase(java.util.Locale.ROOT).startsWith("application/cbor");
        JsonNode node;
        try {
            node = (isCbor ? cbor : json).readTree(payload);
        } catch (IOException e) {
            refuse(device, null, ReadingError.NOT_JSON, isCbor ? "payload is not valid CBOR"
                    : "payload is not valid JSON", correlation);
            return;
        }
        if (node == null || !node.isObject()) {
            refuse(device, null, ReadingError.NOT_JSON, "payload is not a JSON object", correlation);
            return;
        }
        Long seq = node.has("seq") && node.get("seq").canConvertToLong() && node.get("seq").isIntegralNumber()
                ? node.get("seq").asLong() : null;
        if (responseTopic != null && (!responseTopic.startsWith(prefix) || responseTopic.contains("+")
                || responseTopic.contains("#"))) {
            refuse(device, seq, ReadingError.RESPONSE_TOPIC_REFUSED, "response topic '" + responseTopic
                    + "' is outside " + prefix, correlation);
            return;
        }
        if (seq == null) {
            refuse(device, null, ReadingError.BAD_SHAPE, "'seq' is required: an integer", correlation);
            return;
        }
        JsonNode f = node.get("features");
        double[] features = null;
        if (f != null && f.isArray()) {
            features = new double[f.size()];
            for (int i = 0; i < features.length; i++) {
                JsonNode x = f.get(i);
                if (!x.isNumber()) {
                    refuse(device, seq, x.isTextual() && isNonFinite(x.asText()) ? ReadingError.NOT_FINITE
                            : ReadingError.BAD_SHAPE, "feature " + i + " is not a number", correlation);
                    return;
                }
                features[i] = x.asDouble();
            }
        }
        JsonNode model = node.get("model");
        if (model != null && !model.isTextual()) {
            refuse(device, seq, ReadingError.UNKNOWN_MODEL, "'model' must be \"<team>/<name>\"", correlation);
            return;
        }
        String ts = node.has("ts") ? node.get("ts").asText() : null;
        String target = responseTopic != null ? responseTopic : prefix + "inference";
        if (relay) {
            Map<String, Object> echo = new LinkedHashMap<>();
            echo.put("seq", seq);
            echo.put("relay", true);
            publish(target, echo, correlation);
            return;
        }
        service.submit(device, new InferenceService.Reading(seq, ts, features, model == null ? null : model.asText()),
                outcome -> {
                    if (outcome.error() != null) {
                        publish(prefix + "errors", error(seq, outcome.error().code(), outcome.error().getMessage()),
                                correlation);
                    } else {
                        publish(target, outcome.result().toMap(), correlation);
                    }
                });
    }

    private static boolean isNonFinite(String s) {
        String t = s.strip().toLowerCase(java.util.Locale.ROOT);
        return t.equals("nan") || t.equals("inf") || t.equals("-inf") || t.equals("infinity")
                || t.equals("-infinity") || t.equals("+inf");
    }

    private void refuse(String device, Long seq, String code, String message, byte[] correlation) {
        service.refused(code);
        publish("siteward/sensors/" + device + "/errors", error(seq, code, message), correlation);
    }

    private static Map<String, Object> error(Long seq, String code, String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seq", seq);
        m.put("code", code);
        m.put("message", message);
        return m;
    }

    /**
     * Sends a reply at once when nothing is queued before it and Paho's in-flight window has room (the common case:
     * no hand-off to another thread on the way out), else queues it for the publisher thread. Paho frees in-flight
     * slots on its callback thread, so waiting for a slot here (on that thread, or on a batcher thread) would stall
     * both: only the publisher thread waits. Replies keep their order: none is sent directly while an earlier one is
     * queued or held by the publisher.
     */
    private void publish(String topic, Map<String, Object> body, byte[] correlation) {
        byte[] bytes;
        try {
            bytes = json.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            LOG.warn("cannot render a reply for {}: {}", topic, e.toString());
            return;
        }
        MqttMessage out = new MqttMessage(bytes, 1, false, new MqttProperties());
        out.getProperties().setContentType("application/json");
        if (correlation != null) {
            out.getProperties().setCorrelationData(correlation);
        }
        Outgoing o = new Outgoing(topic, out);
        synchronized (outbox) {
            if (outbox.isEmpty() && !holding && sendNow(o)) {
                return;
            }
            if (outbox.size() < OUTBOX) {
                outbox.addLast(o);
                outbox.notifyAll();
                return;
            }
        }
        service.refused("reply_dropped");
        LOG.warn("inference: reply queue full; dropped a reply to {}", topic);
    }

    /** One attempt without waiting; {@code false} when Paho's window is full or the client is down (then queued). */
    private boolean sendNow(Outgoing o) {
        try {
            client.publish(o.topic(), o.message());
            return true;
        } catch (MqttException e) {
            return false;
        }
    }

    /** The next queued reply, held until {@link #released}; {@code null} after 200 ms without one. */
    private Outgoing next() throws InterruptedException {
        synchronized (outbox) {
            if (outbox.isEmpty()) {
                outbox.wait(200);
            }
            Outgoing o = outbox.pollFirst();
            holding = o != null;
            return o;
        }
    }

    private void released() {
        synchronized (outbox) {
            holding = false;
        }
    }

    private boolean outboxEmpty() {
        synchronized (outbox) {
            return outbox.isEmpty() && !holding;
        }
    }

    private record Outgoing(String topic, MqttMessage message) {
    }

    /** Publishes queued replies with QoS 1; waits out Paho's "too many publishes in progress" (it happens). */
    private void publishLoop() {
        while (running) {
            Outgoing o;
            try {
                o = next();
            } catch (InterruptedException e) {
                return;
            }
            if (o == null) {
                continue;
            }
            long firstTry = System.nanoTime();
            for (int attempt = 0; running; attempt++) {
                try {
                    client.publish(o.topic(), o.message());
                    long waited = System.nanoTime() - firstTry;
                    if (waited > 1_000_000_000L) {
                        LOG.warn("inference: a reply to {} waited {} ms for Paho's in-flight window", o.topic(),
                                waited / 1_000_000);
                    }
                    break;
                } catch (MqttException e) {
                    // Paho frees an in-flight slot on its callback thread after the PUBACK, so a full window is
                    // normal under load: wait for it. While disconnected, keep the reply for up to 30 s.
                    boolean busy = e.getReasonCode() == MqttClientException.REASON_CODE_MAX_INFLIGHT;
                    boolean down = e.getReasonCode() == MqttClientException.REASON_CODE_CLIENT_NOT_CONNECTED;
                    if (busy || (down && System.nanoTime() - firstTry < 30_000_000_000L)) {
                        try {
                            if (busy && attempt < 50) {
                                Thread.onSpinWait();
                                Thread.yield();
                            } else {
                                Thread.sleep(busy ? 1 : 50);
                            }
                        } catch (InterruptedException ie) {
                            return;
                        }
                        continue;
                    }
                    service.refused("reply_dropped");
                    LOG.warn("inference: cannot publish to {}: {}", o.topic(), e.toString());
                    break;
                }
            }
            released();
        }
    }

    @Override
    public void disconnected(MqttDisconnectResponse response) {
        LOG.warn("inference: disconnected from the broker ({}); reconnecting", response.getReasonString());
    }

    @Override
    public void mqttErrorOccurred(MqttException exception) {
        LOG.warn("inference: MQTT error: {}", exception.toString());
    }

    @Override
    public void deliveryComplete(IMqttToken token) {
    }

    @Override
    public void authPacketArrived(int reasonCode, MqttProperties properties) {
    }

    static SSLContext sslContext(PrivateKey key, List<X509Certificate> chain, X509Certificate root)
            throws GeneralSecurityException, IOException {
        char[] pw = "in-memory".toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        if ("ECDSA".equals(key.getAlgorithm())) {
            key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(key.getEncoded()));
        }
        ks.setKeyEntry("service", key, pw, chain.toArray(new X509Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("root", root);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    /**
     * Stops taking readings (unsubscribes), for an ordered shutdown: readings already received are still run, and
     * their answers published by {@link #close}, which waits up to {@value #REPLY_GRACE_MILLIS} ms for them.
     */
    public void stopReading() {
        try {
            if (client.isConnected()) {
                client.unsubscribe(SUBSCRIPTION).waitForCompletion(2_000);
            }
        } catch (MqttException e) {
            LOG.debug("inference: unsubscribing: {}", e.toString());
        }
    }

    static final long REPLY_GRACE_MILLIS = 3_000;

    /**
     * Publishes the replies still queued (up to {@value #REPLY_GRACE_MILLIS} ms while connected), then disconnects and
     * closes the client; a second call does nothing.
     */
    @Override
    public void close() {
        if (!running) {
            return; // closed already (the ordered shutdown, then the bean's own dispose)
        }
        long deadline = System.nanoTime() + REPLY_GRACE_MILLIS * 1_000_000;
        try {
            while (!outboxEmpty() && client.isConnected() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        running = false;
        publisher.interrupt();
        try {
            publisher.join(2_000);
            if (client.isConnected()) {
                client.disconnect().waitForCompletion(2_000);
            }
            client.close();
        } catch (MqttException | InterruptedException e) {
            LOG.debug("closing the inference client: {}", e.toString());
        }
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
