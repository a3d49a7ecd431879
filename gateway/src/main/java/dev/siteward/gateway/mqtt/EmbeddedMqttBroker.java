package dev.siteward.gateway.mqtt;

import com.hivemq.embedded.EmbeddedExtension;
import com.hivemq.embedded.EmbeddedHiveMQ;
import dev.siteward.gateway.server.TlsTermination;
import dev.siteward.pki.SecureFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded MQTT 5 broker: HiveMQ Community Edition in the gateway's process, with one TLS listener (TLS 1.3 and
 * 1.2, the gateway's AEAD suites) that requires a client certificate chaining to the site CA and presents the
 * gateway's server certificate. Its extension ({@link BrokerSecurityExtension}) admits each CONNECT and grants topic
 * rights. Its files live in {@code <data>/mqtt/broker} (mode 0700): the configuration, PKCS#12 key and trust stores
 * with a random password per start, an empty extensions folder (no extension is ever loaded from disk). Packets are
 * limited to {@code siteward.mqtt.max-packet-size}, client ids to 128 characters, topics to 1024, and a connection
 * must send CONNECT within 10 s. Sessions
 * and queued messages are kept in memory: a gateway restart ends them, and clients resend what was not acknowledged.
 */
public final class EmbeddedMqttBroker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedMqttBroker.class);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);
    /**
     * How long a shutdown waits for the broker (HiveMQ's own stop takes about 4 s: a fixed 2 s quiet period of its
     * event loops, then its in-memory persistence); beyond it the process exits and the broker's threads with it.
     */
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(6);

    private final EmbeddedHiveMQ hivemq;
    private final BrokerSecurityExtension security;
    private final int port;
    private final TlsFiles tls;

    private EmbeddedMqttBroker(EmbeddedHiveMQ hivemq, BrokerSecurityExtension security, int port, TlsFiles tls) {
        this.hivemq = hivemq;
        this.security = security;
        this.port = port;
        this.tls = tls;
    }

    /**
     * The broker's key store and trust store files and their password (random per start, in the generated
     * config.xml). HiveMQ re-reads both files when their content changes (it checks every 10 s), so replacing them
     * atomically here gives new connections the renewed server certificate, or the trust anchors after a CA rotation,
     * with no restart; open connections keep their session.
     */
    static final class TlsFiles {
        private final Path keystore;
        private final Path truststore;
        private final char[] password;
        private X509Certificate[] chain;
        private List<X509Certificate> anchors;

        TlsFiles(Path keystore, Path truststore, char[] password) {
            this.keystore = keystore;
            this.truststore = truststore;
            this.password = password.clone();
        }

        /** Writes the files when the chain or the anchors differ from what they hold; true when it wrote. */
        synchronized boolean write(PrivateKey key, X509Certificate[] newChain, List<X509Certificate> newAnchors)
                throws IOException, GeneralSecurityException {
            boolean changed = false;
            if (chain == null || !java.util.Arrays.equals(chain, newChain)) {
                SecureFiles.writeAtomically(keystore, keyStore(key, newChain, password), true);
                chain = newChain.clone();
                changed = true;
            }
            if (anchors == null || !anchors.equals(newAnchors)) {
                SecureFiles.writeAtomically(truststore, trustStore(newAnchors, password), true);
                anchors = List.copyOf(newAnchors);
                changed = true;
            }
            return changed;
        }
    }

    /**
     * Serves {@code chain} (with {@code key}) and trusts {@code anchors} for new connections from HiveMQ's next
     * file check (within about 10 s); does nothing when they are what the broker already has. Returns whether the
     * files changed.
     */
    public boolean refreshTls(PrivateKey key, X509Certificate[] chain, List<X509Certificate> anchors)
            throws IOException, GeneralSecurityException {
        boolean changed = tls.write(key, chain, anchors);
        if (changed) {
            LOG.info("embedded MQTT broker: new server certificate (serial {}) and {} trust anchor(s) written; used "
                    + "for new connections from the broker's next check", chain[0].getSerialNumber().toString(16),
                    anchors.size());
        }
        return changed;
    }

    /**
     * Writes the broker's files and starts it, waiting at most {@code startTimeout}: HiveMQ's start future never
     * completes when its dependencies are wrong, so an unbounded wait would hang the gateway.
     */
    public static EmbeddedMqttBroker start(Path dataDir, int port, String bindAddress, int maxPacketSize,
                                           PrivateKey serverKey,
                                           X509Certificate[] serverChain, List<X509Certificate> trustAnchors,
                                           BrokerSecurityExtension security, Duration startTimeout)
            throws IOException, GeneralSecurityException, MqttBrokerException {
        Path home = SecureFiles.createPrivateDirectory(dataDir.resolve("mqtt"));
        Path broker = SecureFiles.createPrivateDirectory(home.resolve("broker"));
        Path conf = SecureFiles.createPrivateDirectory(broker.resolve("conf"));
        Path data = SecureFiles.createPrivateDirectory(broker.resolve("data"));
        Path extensions = SecureFiles.createPrivateDirectory(broker.resolve("extensions"));
        char[] password = randomPassword();
        Path keystore = broker.resolve("server-keystore.p12");
        Path truststore = broker.resolve("client-ca-truststore.p12");
        TlsFiles tls = new TlsFiles(keystore, truststore, password);
        tls.write(serverKey, serverChain, trustAnchors);
        SecureFiles.writeAtomically(conf.resolve("config.xml"), configXml(port, bindAddress, keystore, truststore,
                new String(password), maxPacketSize).getBytes(StandardCharsets.UTF_8), true);
        EmbeddedExtension extension = EmbeddedExtension.builder().withId("siteward-security")
                .withName("Siteward MQTT security").withVersion("1").withAuthor("Siteward").withPriority(1000)
                .withStartPriority(1000).withExtensionMain(security).build();
        EmbeddedHiveMQ hivemq = EmbeddedHiveMQ.builder().withConfigurationFolder(conf).withDataFolder(data)
                .withExtensionsFolder(extensions).withEmbeddedExtension(extension).withoutLoggingBootstrap().build();
        try {
            hivemq.start().get(startTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            stopQuietly(hivemq);
            throw new MqttBrokerException("the embedded MQTT broker did not start within " + startTimeout.toSeconds()
                    + " s", e);
        } catch (ExecutionException e) {
            stopQuietly(hivemq);
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new MqttBrokerException("the embedded MQTT broker failed to start on port " + port + ": "
                    + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopQuietly(hivemq);
            throw new MqttBrokerException("interrupted while starting the embedded MQTT broker", e);
        }
        if (!security.started()) {
            stopQuietly(hivemq);
            throw new MqttBrokerException("the embedded MQTT broker started without its security extension", null);
        }
        LOG.info("embedded MQTT broker listening on {}:{} (TLS, client certificates required)", bindAddress, port);
        return new EmbeddedMqttBroker(hivemq, security, port, tls);
    }

    /** The TLS port the broker listens on. */
    public int port() {
        return port;
    }

    /** Disconnects the client with this id now (and again shortly after, see {@link BrokerSecurityExtension}). */
    public void disconnect(String clientId, String reason) {
        security.disconnect(clientId, reason);
    }

    private final java.util.concurrent.atomic.AtomicBoolean stopped = new java.util.concurrent.atomic.AtomicBoolean();

    /** The broker's message counters since start: PUBLISH packets received and sent, and messages it dropped. */
    public record Counters(long publishesReceived, long publishesSent, long dropped) {
    }

    /**
     * HiveMQ's own counters. {@code dropped} counts messages the broker discarded, for instance when a subscriber's
     * queue (1,000 messages, HiveMQ's default; the gateway's shared subscription has one too) is full.
     */
    public Counters counters() {
        com.codahale.metrics.MetricRegistry r = hivemq.getMetricRegistry();
        return new Counters(count(r, "com.hivemq.messages.incoming.publish.count"),
                count(r, "com.hivemq.messages.outgoing.publish.count"), count(r, "com.hivemq.messages.dropped.count"));
    }

    private static long count(com.codahale.metrics.MetricRegistry r, String name) {
        com.codahale.metrics.Counter c = r == null ? null : r.getCounters().get(name);
        return c == null ? 0 : c.getCount();
    }

    /** Stops the broker (disconnecting every client); a second call does nothing. */
    @Override
    public void close() {
        if (stopped.compareAndSet(false, true)) {
            Counters c = counters();
            if (c.dropped() > 0) {
                LOG.warn("embedded MQTT broker dropped {} messages since start (of {} received)", c.dropped(),
                        c.publishesReceived());
            }
            stopQuietly(hivemq, CLOSE_TIMEOUT);
        }
    }

    private static void stopQuietly(EmbeddedHiveMQ hivemq) {
        stopQuietly(hivemq, STOP_TIMEOUT);
    }

    private static void stopQuietly(EmbeddedHiveMQ hivemq, Duration timeout) {
        try {
            hivemq.stop().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.warn("embedded MQTT broker did not stop cleanly: {}", e.toString());
        }
    }

    static String configXml(int port, String bindAddress, Path keystore, Path truststore, String password,
                            int maxPacketSize) {
        StringBuilder ciphers = new StringBuilder();
        for (String c : TlsTermination.CIPHERS) {
            ciphers.append("          <cipher-suite>").append(c).append("</cipher-suite>\n");
        }
        StringBuilder protocols = new StringBuilder();
        for (String p : TlsTermination.PROTOCOLS) {
            protocols.append("          <protocol>").append(p).append("</protocol>\n");
        }
        return """
                <?xml version="1.0" encoding="UTF-8"?>
                <!-- written by siteward serve at every start; edits are overwritten -->
                <hivemq>
                  <listeners>
                    <tls-tcp-listener>
                      <port>%d</port>
                      <bind-address>%s</bind-address>
                      <name>siteward-mqtt</name>
                      <tls>
                        <keystore>
                          <path>%s</path>
                          <password>%s</password>
                          <private-key-password>%s</private-key-password>
                        </keystore>
                        <truststore>
                          <path>%s</path>
                          <password>%s</password>
                        </truststore>
                        <protocols>
                %s        </protocols>
                        <cipher-suites>
                %s        </cipher-suites>
                        <client-authentication-mode>REQUIRED</client-authentication-mode>
                        <handshake-timeout>10000</handshake-timeout>
                      </tls>
                    </tls-tcp-listener>
                  </listeners>
                  <mqtt>
                    <packets>
                      <max-packet-size>%d</max-packet-size>
                    </packets>
                  </mqtt>
                  <restrictions>
                    <max-client-id-length>128</max-client-id-length>
                    <max-topic-length>1024</max-topic-length>
                    <no-connect-idle-timeout>10000</no-connect-idle-timeout>
                  </restrictions>
                  <security>
                    <allow-empty-client-id>
                      <enabled>false</enabled>
                    </allow-empty-client-id>
                  </security>
                  <persistence>
                    <mode>in-memory</mode>
                  </persistence>
                  <anonymous-usage-statistics>
                    <enabled>false</enabled>
                  </anonymous-usage-statistics>
                </hivemq>
                """.formatted(port, xml(bindAddress), xml(keystore.toString()), password, password,
                xml(truststore.toString()), password, protocols, ciphers, maxPacketSize);
    }

    private static String xml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static char[] randomPassword() {
        byte[] b = new byte[24];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b).toCharArray();
    }

    private static byte[] keyStore(PrivateKey key, X509Certificate[] chain, char[] password)
            throws GeneralSecurityException, IOException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("siteward", jdkKey(key), password, chain);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ks.store(out, password);
        return out.toByteArray();
    }

    private static byte[] trustStore(List<X509Certificate> anchors, char[] password)
            throws GeneralSecurityException, IOException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        int i = 0;
        for (X509Certificate c : anchors) {
            ks.setCertificateEntry("site-ca-" + (i++), c);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ks.store(out, password);
        return out.toByteArray();
    }

    /** JSSE matches key algorithm names literally ("EC"); keys read through BouncyCastle say "ECDSA". */
    private static PrivateKey jdkKey(PrivateKey key) throws GeneralSecurityException {
        if (!"ECDSA".equals(key.getAlgorithm())) {
            return key;
        }
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(key.getEncoded()));
    }

    /** The broker could not be started. */
    public static final class MqttBrokerException extends Exception {
        MqttBrokerException(String message, Throwable cause) {
            super(message, cause);
        }
    }

}
