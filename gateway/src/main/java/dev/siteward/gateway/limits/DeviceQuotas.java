package dev.siteward.gateway.limits;

import dev.siteward.gateway.server.SourceRateLimiter;
import io.micronaut.context.exceptions.ConfigurationException;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.Optional;

/**
 * The per-device quotas: a token bucket per device for device-listener requests, one for request-body bytes and one
 * for MQTT messages (the same {@link SourceRateLimiter} the enrollment listener uses per source address). Refusals
 * are counted in {@link LimitCounters}. A refused request takes nothing from any bucket, so a device that backs off
 * for the advised time gets through.
 */
@Singleton
public final class DeviceQuotas {

    /** The largest request body any device route accepts (the server's buffered-body limit). */
    public static final long MAX_REQUEST_BODY = 1L << 20;

    /**
     * Why a request or message was refused.
     *
     * @param limit             the limit's name ({@link LimitCounters} constants)
     * @param retryAfterSeconds when to try again, at least 1
     * @param message           a safe one-line reason
     */
    public record Refusal(String limit, long retryAfterSeconds, String message) {
    }

    private final boolean enabled;
    private final SourceRateLimiter requests;
    private final SourceRateLimiter uploadBytes;
    private final SourceRateLimiter mqttMessages;
    private final LimitCounters counters;

    public DeviceQuotas(LimitsConfiguration config, LimitCounters counters, Clock clock) {
        this.enabled = config.isEnabled();
        this.counters = counters;
        check(config.getDeviceRequestsPerSecond() > 0 && config.getDeviceRequestBurst() >= 1,
                "siteward.limits.device-requests-per-second must be > 0 and device-request-burst >= 1");
        check(config.getDeviceUploadBytesPerSecond() > 0 && config.getDeviceUploadBurstBytes() >= MAX_REQUEST_BODY,
                "siteward.limits.device-upload-bytes-per-second must be > 0 and device-upload-burst-bytes at least "
                        + MAX_REQUEST_BODY + " (the largest request body)");
        check(config.getMqttMessagesPerSecond() > 0 && config.getMqttMessageBurst() >= 1,
                "siteward.limits.mqtt-messages-per-second must be > 0 and mqtt-message-burst >= 1");
        this.requests = new SourceRateLimiter(config.getDeviceRequestsPerSecond(), config.getDeviceRequestBurst(),
                clock);
        this.uploadBytes = new SourceRateLimiter((double) config.getDeviceUploadBytesPerSecond(),
                (double) config.getDeviceUploadBurstBytes(), clock);
        this.mqttMessages = new SourceRateLimiter(config.getMqttMessagesPerSecond(), config.getMqttMessageBurst(),
                clock);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new ConfigurationException(message);
        }
    }

    /** Whether the per-device limits apply at all. */
    public boolean enabled() {
        return enabled;
    }

    /**
     * Admits one device-listener request with a body of {@code bodyBytes} (0 for none), or says why not. The upload
     * quota is checked first so that a refused upload costs no request token.
     */
    public Optional<Refusal> admitRequest(String device, long bodyBytes) {
        if (!enabled) {
            return Optional.empty();
        }
        if (bodyBytes > 0) {
            long wait = uploadBytes.acquire(device, bodyBytes);
            if (wait != 0) {
                counters.deviceUploadRefused(bodyBytes);
                return Optional.of(new Refusal(LimitCounters.DEVICE_UPLOADS, seconds(wait), "device '" + device
                        + "' is over its upload quota of " + (long) uploadBytes.ratePerSecond()
                        + " bytes/s (burst " + (long) uploadBytes.burst() + "); retry later"));
            }
        }
        long wait = requests.acquire(device, 1);
        if (wait != 0) {
            uploadBytes.refund(device, bodyBytes); // nothing was accepted
            counters.deviceRequestRefused();
            return Optional.of(new Refusal(LimitCounters.DEVICE_REQUESTS, seconds(wait), "device '" + device
                    + "' is over its request rate of " + requests.ratePerSecond() + "/s (burst "
                    + (long) requests.burst() + "); retry later"));
        }
        return Optional.empty();
    }

    /** Admits one MQTT PUBLISH from a device, or says why not. */
    public Optional<Refusal> admitMqttMessage(String device) {
        if (!enabled) {
            return Optional.empty();
        }
        long wait = mqttMessages.acquire(device, 1);
        if (wait == 0) {
            return Optional.empty();
        }
        counters.mqttMessageRefused();
        return Optional.of(new Refusal(LimitCounters.MQTT_MESSAGES, seconds(wait), "over the message rate of "
                + mqttMessages.ratePerSecond() + "/s (burst " + (long) mqttMessages.burst() + ")"));
    }

    private static long seconds(long millis) {
        return millis == Long.MAX_VALUE ? 60 : Math.max(1, (millis + 999) / 1000);
    }
}
