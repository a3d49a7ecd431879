package dev.siteward.gateway.mqtt;

import dev.siteward.gateway.metrics.MetricFamilies;
import java.util.function.Supplier;

/**
 * The embedded broker on the management listener's {@code /prometheus}:
 * <ul>
 *   <li>{@code siteward_mqtt_publishes_received_total} and {@code siteward_mqtt_publishes_sent_total} — PUBLISH
 *       packets the broker received from clients and sent to them;</li>
 *   <li>{@code siteward_mqtt_messages_dropped_total} — messages the broker discarded (a subscriber's queue full,
 *       for instance the gateway's own shared subscription when readings arrive faster than it takes them).
 *       Sensors on the SDK resend readings that get no answer; any other rise means lost messages.</li>
 * </ul>
 * Read from HiveMQ's counters at each scrape; empty while no embedded broker runs (external broker).
 */
final class BrokerMetrics implements MetricFamilies {

    private final Supplier<EmbeddedMqttBroker> broker;

    BrokerMetrics(Supplier<EmbeddedMqttBroker> broker) {
        this.broker = broker;
    }

    @Override
    public int order() {
        return 40;
    }

    @Override
    public String prometheus() {
        EmbeddedMqttBroker b = broker.get();
        if (b == null) {
            return "";
        }
        EmbeddedMqttBroker.Counters c = b.counters();
        return counter("siteward_mqtt_publishes_received_total", "PUBLISH packets the embedded broker received.",
                c.publishesReceived())
                + counter("siteward_mqtt_publishes_sent_total", "PUBLISH packets the embedded broker sent.",
                c.publishesSent())
                + counter("siteward_mqtt_messages_dropped_total", "Messages the embedded broker discarded (a "
                + "subscriber's queue full); sensors on the SDK resend unanswered readings.", c.dropped());
    }

    private static String counter(String name, String help, long value) {
        return "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " + value + "\n";
    }
}
