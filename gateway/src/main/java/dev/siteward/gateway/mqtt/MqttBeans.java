package dev.siteward.gateway.mqtt;

import dev.siteward.gateway.authentication.ClientCertificateVerifier;
import dev.siteward.gateway.limits.DeviceQuotas;
import dev.siteward.gateway.server.ConnectionTracker;
import dev.siteward.gateway.server.GatewayCredentials;
import dev.siteward.gateway.server.SitewardConfiguration;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.ca.SiteCa;
import dev.siteward.gateway.metrics.MetricFamilies;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.exceptions.ConfigurationException;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import org.eclipse.paho.mqttv5.common.MqttException;

/**
 * Wires MQTT: the CONNECT admission, and — created on demand by {@code siteward serve} for the configured broker
 * mode — the embedded broker or the control of an external Mosquitto. Either one registers with the connection
 * tracker, so a revocation or suspension ends the client's MQTT session along with its HTTPS connections.
 */
@Factory
public class MqttBeans {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(MqttBeans.class);
    /** How often the embedded broker's TLS files are compared with the gateway's current server credential. */
    static final Duration TLS_REFRESH = Duration.ofSeconds(60);
    /** How often the MQTT service certificate (external broker mode) is checked for renewal. */
    static final Duration SERVICE_RENEWAL = Duration.ofMinutes(60);

    private final java.util.concurrent.ScheduledExecutorService refreshes =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "mqtt-tls-refresh");
                t.setDaemon(true);
                return t;
            });

    /**
     * Gives the embedded broker the gateway's current server certificate (renewed by the credential renewal job)
     * and the currently trusted issuing CAs (after {@code ca rotate}, or once a generation retires). A failure is
     * logged and retried at the next check; the broker keeps what it has.
     */
    static void refreshBrokerTls(EmbeddedMqttBroker broker, Path dataDir, GatewayCredentials credentials, SiteCa ca) {
        try {
            PrivateKey key = KeyMaterial.readPrivateKey(Files.readString(dataDir.resolve("gateway/server-key.pem")));
            List<X509Certificate> anchors = new ArrayList<>();
            anchors.addAll(ca.trustedRoots());
            anchors.addAll(ca.issuingCertificates());
            X509Certificate[] chain = credentials.serverKeys().chain();
            if (!java.util.Arrays.equals(KeyMaterial.publicKeyOf(key).getEncoded(),
                    chain[0].getPublicKey().getEncoded())) {
                return; // caught between the key file and the certificate of a renewal: the next check takes both
            }
            broker.refreshTls(key, chain, anchors);
        } catch (Exception e) {
            LOG.warn("could not refresh the embedded MQTT broker's TLS files (retrying): {}", e.toString());
        }
    }

    @jakarta.annotation.PreDestroy
    void stopRefreshes() {
        refreshes.shutdownNow();
    }

    private volatile EmbeddedMqttBroker started;

    /** The embedded broker's message counters on {@code /prometheus} (nothing while it runs external or not yet). */
    @Singleton
    MetricFamilies brokerMetrics() {
        return new BrokerMetrics(() -> started);
    }

    @Singleton
    MqttAdmission mqttAdmission(ClientCertificateVerifier verifier, MqttConfiguration config) {
        return new MqttAdmission(verifier, new LinkedHashSet<>(config.getServiceNames()));
    }

    @Singleton
    @Bean(preDestroy = "close")
    EmbeddedMqttBroker embeddedMqttBroker(SitewardConfiguration site, MqttConfiguration config,
                                          GatewayCredentials credentials, SiteCa ca, MqttAdmission admission,
                                          ConnectionTracker tracker, DeviceQuotas quotas) {
        Path dataDir = Path.of(site.getDataDir());
        try {
            PrivateKey key = KeyMaterial.readPrivateKey(Files.readString(dataDir.resolve("gateway/server-key.pem")));
            List<X509Certificate> anchors = new ArrayList<>();
            anchors.addAll(ca.trustedRoots());
            anchors.addAll(ca.issuingCertificates());
            EmbeddedMqttBroker broker = EmbeddedMqttBroker.start(dataDir, config.getPort(), config.getBindAddress(),
                    config.getMaxPacketSize(),
                    key, credentials.serverKeys().chain(), anchors, new BrokerSecurityExtension(admission, quotas),
                    Duration.ofSeconds(config.getStartTimeoutSeconds()));
            tracker.addSessionCloser(identity -> {
                String clientId = MqttAdmission.clientIdOfIdentity(identity);
                if (clientId != null) {
                    broker.disconnect(clientId, "certificate revoked or device suspended");
                }
            });
            refreshes.scheduleWithFixedDelay(() -> refreshBrokerTls(broker, dataDir, credentials, ca),
                    TLS_REFRESH.toSeconds(), TLS_REFRESH.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
            started = broker;
            return broker;
        } catch (IOException | GeneralSecurityException | EmbeddedMqttBroker.MqttBrokerException e) {
            throw new ConfigurationException(e.getMessage(), e);
        }
    }

    @Singleton
    @Bean(preDestroy = "close")
    MosquittoControl mosquittoControl(SitewardConfiguration site, MqttConfiguration config, SiteCa ca,
                                      ConnectionTracker tracker, Clock clock) {
        if (config.getMosquittoDir() == null || config.getMosquittoDir().isBlank()) {
            throw new ConfigurationException("siteward.mqtt.mosquitto-dir must name the directory that "
                    + "'siteward mqtt mosquitto-config' wrote when siteward.mqtt.broker is external");
        }
        try {
            MqttServiceCredential credential = MqttServiceCredential.ensure(Path.of(site.getDataDir()), ca,
                    config.getServiceNames().get(0), clock);
            MosquittoControl control = new MosquittoControl(Path.of(config.getMosquittoDir()), ca, credential,
                    config.getMosquittoHost(), config.getMosquittoPort(), config.getMosquittoReloadCommand());
            control.start();
            tracker.addSessionCloser(control::cutOff);
            Path dataDir = Path.of(site.getDataDir());
            String name = config.getServiceNames().get(0);
            java.util.concurrent.atomic.AtomicReference<MqttServiceCredential> current =
                    new java.util.concurrent.atomic.AtomicReference<>(credential);
            // renews the service certificate at two thirds of its lifetime (ensure() re-issues when due)
            refreshes.scheduleWithFixedDelay(() -> {
                try {
                    MqttServiceCredential fresh = MqttServiceCredential.ensure(dataDir, ca, name, clock);
                    if (!fresh.chain().get(0).equals(current.get().chain().get(0))) {
                        control.useCredential(fresh);
                        current.set(fresh);
                        LOG.info("MQTT service certificate renewed: serial {}",
                                fresh.chain().get(0).getSerialNumber().toString(16));
                    }
                } catch (Exception e) {
                    LOG.warn("renewing the MQTT service certificate failed (retrying): {}", e.toString());
                }
            }, SERVICE_RENEWAL.toMinutes(), SERVICE_RENEWAL.toMinutes(), java.util.concurrent.TimeUnit.MINUTES);
            return control;
        } catch (IOException | GeneralSecurityException | PkiException | MqttException e) {
            throw new ConfigurationException("cannot control the external Mosquitto: " + e.getMessage(), e);
        }
    }
}
