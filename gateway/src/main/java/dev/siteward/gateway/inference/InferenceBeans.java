package dev.siteward.gateway.inference;

import dev.siteward.gateway.audit.AuditTrail;
import dev.siteward.gateway.authorization.PolicyService;
import dev.siteward.gateway.devices.Device;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.models.ModelRepository;
import dev.siteward.gateway.mqtt.EmbeddedMqttBroker;
import dev.siteward.gateway.mqtt.MqttConfiguration;
import dev.siteward.gateway.mqtt.MqttServiceCredential;
import dev.siteward.gateway.retention.DataRecords;
import dev.siteward.gateway.rollout.RolloutShadows;
import dev.siteward.gateway.server.SitewardConfiguration;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.pki.ca.SiteCa;
import io.micronaut.context.BeanProvider;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.exceptions.ConfigurationException;
import jakarta.inject.Singleton;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Wires shared inference. Nothing here starts with the application context: {@code siteward serve} asks for
 * {@link InferenceRuntime} after the broker is up, so tests and CLI commands that build a context run no inference.
 */
@Factory
public class InferenceBeans {

    @Singleton
    InferenceMetrics inferenceMetrics() {
        return new InferenceMetrics();
    }

    @Singleton
    @Bean(preDestroy = "close")
    InferenceService inferenceService(GatewayStore store, ModelRepository repository, DeviceRegistry devices,
                                      BeanProvider<PolicyService> policies, BeanProvider<AuditTrail> audit,
                                      MqttConfiguration mqtt, InferenceConfiguration config, InferenceMetrics metrics,
                                      Clock clock, BeanProvider<RolloutShadows> shadows,
                                      BeanProvider<DataRecords> dataRecords,
                                      @Value("${siteward.inference.store-queue:10000}") int storeQueue,
                                      @Value("${siteward.inference.store-batch:500}") int storeBatch) {
        DynamicBatcher.Settings settings;
        try {
            settings = config.batcherSettings();
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException("siteward.inference: " + e.getMessage());
        }
        if (storeQueue < 1 || storeBatch < 1 || storeBatch > 10_000) {
            throw new ConfigurationException("siteward.inference.store-queue must be positive and store-batch "
                    + "between 1 and 10000");
        }
        InferenceService service = InferenceService.overRepository(store, repository, devices,
                policies.isPresent() ? policies.get() : null, audit.isPresent() ? audit.get() : AuditTrail.NONE,
                mqtt.getServiceNames().get(0), settings, metrics, clock);
        if (shadows.isPresent()) {
            RolloutShadows rolloutShadows = shadows.get();
            service.shadows(new ShadowRuns(new ShadowRuns.Source() {
                @Override
                public java.util.List<RolloutShadows.Live> live() throws Exception {
                    return rolloutShadows.live();
                }

                @Override
                public void add(String rolloutId, RolloutShadows.Delta delta) throws Exception {
                    rolloutShadows.add(rolloutId, delta);
                }
            }, device -> devices.find(device).map(Device::labels).orElse(null),
                    (model, version) -> LoadedModel.of(repository.loadVerified(model, version)), settings, clock));
        }
        if (dataRecords.isPresent()) {
            service.records(new InferenceRecords(dataRecords.get(), storeQueue, storeBatch));
        }
        return service;
    }

    /** The running inference client and management listener, closed in that order before the service. */
    public record InferenceRuntime(MqttInferenceClient client, ManagementListener management)
            implements AutoCloseable {
        @Override
        public void close() {
            client.close();
            management.close();
        }
    }

    @Singleton
    @Bean(preDestroy = "close")
    InferenceRuntime inferenceRuntime(SitewardConfiguration site, MqttConfiguration mqtt, InferenceConfiguration config,
                                      SiteCa ca, InferenceService service, BeanProvider<EmbeddedMqttBroker> broker,
                                      java.util.List<dev.siteward.gateway.metrics.MetricFamilies> families,
                                      Clock clock) {
        try {
            String uri = mqtt.brokerMode() == MqttConfiguration.BrokerMode.EMBEDDED
                    ? "ssl://localhost:" + broker.get().port()
                    : "ssl://" + mqtt.getMosquittoHost() + ":" + mqtt.getMosquittoPort();
            MqttServiceCredential credential = MqttServiceCredential.ensure(Path.of(site.getDataDir()), ca,
                    mqtt.getServiceNames().get(0), clock);
            MqttInferenceClient client = new MqttInferenceClient(uri, credential.name(), credential.key(),
                    credential.chain(), ca.root(), service, config.getMaxPayloadBytes());
            client.relayOnly(config.isRelay());
            client.start(15_000);
            if (service.shadows() != null) {
                service.shadows().start();
            }
            ManagementListener management = new ManagementListener(config.getManagementAddress(),
                    config.getManagementPort(), () -> service.metrics().prometheus() + service.drift().prometheus()
                            + (service.shadows() == null ? "" : service.shadows().prometheus())
                            + (service.records() == null ? "" : service.records().prometheus())
                            + dev.siteward.gateway.metrics.MetricFamilies.render(families), () -> {
                        Map<String, Object> h = new LinkedHashMap<>();
                        boolean up = client.connected();
                        return new ManagementListener.Health(up, "{\"status\":\"" + (up ? "UP" : "DOWN")
                                + "\",\"mqtt\":" + up + ",\"models\":" + json(service.served()) + "}");
                    });
            return new InferenceRuntime(client, management);
        } catch (Exception e) {
            throw new ConfigurationException("cannot start shared inference: " + e.getMessage(), e);
        }
    }

    private static String json(Map<String, Long> served) {
        StringBuilder b = new StringBuilder("{");
        served.forEach((k, v) -> b.append(b.length() > 1 ? "," : "").append('"').append(k.replace("\"", ""))
                .append("\":").append(v));
        return b.append('}').toString();
    }
}
