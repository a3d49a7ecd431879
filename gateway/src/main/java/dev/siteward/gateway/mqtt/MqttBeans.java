package dev.siteward.gateway.mqtt;

import dev.siteward.gateway.authentication.ClientCertificateVerifier;
import dev.siteward.gateway.limits.DeviceQuotas;
import dev.siteward.gateway.server.ConnectionTracker;
import dev.siteward.gateway.server.GatewayCredentials;
import dev.siteward.gateway.server.SitewardConfiguration;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.ca.SiteCa;
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
            anchors.add(ca.root());
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
            return control;
        } catch (IOException | GeneralSecurityException | PkiException | MqttException e) {
            throw new ConfigurationException("cannot control the external Mosquitto: " + e.getMessage(), e);
        }
    }
}
