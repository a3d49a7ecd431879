package dev.siteward.gateway.limits;

import io.micronaut.context.annotation.ConfigurationProperties;

/**
 * Per-device abuse limits under {@code siteward.limits.*}: requests on the device listener (a token bucket per
 * device: a sustained rate and a burst), request-body bytes a device may upload, and MQTT messages a device may
 * publish to the embedded broker. Admins, publishers and services are not limited here. Checked at start-up by
 * {@link DeviceQuotas}.
 */
@ConfigurationProperties(LimitsConfiguration.PREFIX)
public class LimitsConfiguration {

    public static final String PREFIX = "siteward.limits";
    public static final double DEFAULT_DEVICE_REQUESTS_PER_SECOND = 20;
    public static final int DEFAULT_DEVICE_REQUEST_BURST = 40;
    public static final long DEFAULT_DEVICE_UPLOAD_BYTES_PER_SECOND = 1L << 20;
    public static final long DEFAULT_DEVICE_UPLOAD_BURST_BYTES = 8L << 20;
    public static final double DEFAULT_MQTT_MESSAGES_PER_SECOND = 100;
    public static final int DEFAULT_MQTT_MESSAGE_BURST = 200;

    private boolean enabled = true;
    private double deviceRequestsPerSecond = DEFAULT_DEVICE_REQUESTS_PER_SECOND;
    private int deviceRequestBurst = DEFAULT_DEVICE_REQUEST_BURST;
    private long deviceUploadBytesPerSecond = DEFAULT_DEVICE_UPLOAD_BYTES_PER_SECOND;
    private long deviceUploadBurstBytes = DEFAULT_DEVICE_UPLOAD_BURST_BYTES;
    private double mqttMessagesPerSecond = DEFAULT_MQTT_MESSAGES_PER_SECOND;
    private int mqttMessageBurst = DEFAULT_MQTT_MESSAGE_BURST;

    /** Whether the per-device limits apply (default true; the enrollment listener's per-source limit always does). */
    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    /** Device-listener requests per second per device, sustained (default 20). */
    public double getDeviceRequestsPerSecond() {
        return deviceRequestsPerSecond;
    }

    public void setDeviceRequestsPerSecond(double deviceRequestsPerSecond) {
        this.deviceRequestsPerSecond = deviceRequestsPerSecond;
    }

    /** Device-listener requests a device may make at once after being idle (default 40). */
    public int getDeviceRequestBurst() {
        return deviceRequestBurst;
    }

    public void setDeviceRequestBurst(int deviceRequestBurst) {
        this.deviceRequestBurst = deviceRequestBurst;
    }

    /** Request-body bytes per second per device, sustained (default 1 MiB). */
    public long getDeviceUploadBytesPerSecond() {
        return deviceUploadBytesPerSecond;
    }

    public void setDeviceUploadBytesPerSecond(long deviceUploadBytesPerSecond) {
        this.deviceUploadBytesPerSecond = deviceUploadBytesPerSecond;
    }

    /** Request-body bytes a device may send at once (default 8 MiB; at least the 1 MiB largest request body). */
    public long getDeviceUploadBurstBytes() {
        return deviceUploadBurstBytes;
    }

    public void setDeviceUploadBurstBytes(long deviceUploadBurstBytes) {
        this.deviceUploadBurstBytes = deviceUploadBurstBytes;
    }

    /** MQTT PUBLISH packets per second per device on the embedded broker, sustained (default 100). */
    public double getMqttMessagesPerSecond() {
        return mqttMessagesPerSecond;
    }

    public void setMqttMessagesPerSecond(double mqttMessagesPerSecond) {
        this.mqttMessagesPerSecond = mqttMessagesPerSecond;
    }

    /** MQTT PUBLISH packets a device may send at once (default 200). */
    public int getMqttMessageBurst() {
        return mqttMessageBurst;
    }

    public void setMqttMessageBurst(int mqttMessageBurst) {
        this.mqttMessageBurst = mqttMessageBurst;
    }
}
