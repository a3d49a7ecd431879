package dev.siteward.gateway.server;

import dev.siteward.gateway.inference.InferenceBeans;
import dev.siteward.gateway.inference.InferenceService;
import dev.siteward.gateway.mqtt.EmbeddedMqttBroker;
import io.micronaut.context.BeanContext;
import io.micronaut.context.BeanRegistration;
import io.micronaut.context.event.ApplicationEventListener;
import io.micronaut.context.event.ShutdownEvent;
import jakarta.inject.Singleton;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops the message path in order on shutdown, before the context disposes the remaining beans (database, audit
 * log, time record, CA): first the inference client unsubscribes (no new readings), then the inference service runs
 * the queued readings (shadow counts flushed, the store queue written), then the client publishes their answers and
 * disconnects, then the embedded broker stops. Without it the context disposes
 * the broker first, since the inference beans reach it only through a provider the dependency order does not see.
 * Only beans that exist are closed (nothing is created during shutdown); each step is logged with its duration.
 */
@Singleton
public class OrderedShutdown implements ApplicationEventListener<ShutdownEvent> {

    private static final Logger LOG = LoggerFactory.getLogger(OrderedShutdown.class);

    private final BeanContext context;

    public OrderedShutdown(BeanContext context) {
        this.context = context;
    }

    @Override
    public void onApplicationEvent(ShutdownEvent event) {
        long start = System.nanoTime();
        step("inference client: unsubscribed", InferenceBeans.InferenceRuntime.class, r -> r.client().stopReading());
        step("inference service: queued readings run and stored", InferenceService.class, InferenceService::close);
        step("inference client: replies published", InferenceBeans.InferenceRuntime.class,
                InferenceBeans.InferenceRuntime::close);
        step("embedded MQTT broker stopped", EmbeddedMqttBroker.class, EmbeddedMqttBroker::close);
        LOG.info("shutdown: message path stopped in {} ms; closing the store, audit log and time record",
                (System.nanoTime() - start) / 1_000_000);
    }

    private <T> void step(String name, Class<T> type, Consumer<T> close) {
        for (BeanRegistration<T> registration : context.getActiveBeanRegistrations(type)) {
            long t0 = System.nanoTime();
            try {
                close.accept(registration.getBean());
            } catch (RuntimeException e) {
                LOG.warn("shutdown: closing the {} failed: {}", name, e.toString());
            }
            LOG.info("shutdown: {} ({} ms)", name, (System.nanoTime() - t0) / 1_000_000);
        }
    }
}
