package dev.siteward.gateway.inference;

import io.micronaut.context.annotation.ConfigurationProperties;

/**
 * Shared inference settings under {@code siteward.inference.*} (docs/inference.md). What a model computes comes only
 * from its signed {@code siteward-model.yaml}; these settings only size the batcher and the listeners.
 */
@ConfigurationProperties(InferenceConfiguration.PREFIX)
public class InferenceConfiguration {

    public static final String PREFIX = "siteward.inference";
    public static final int DEFAULT_MAX_BATCH = 32;
    public static final long DEFAULT_MAX_DELAY_MICROS = 500;
    public static final int DEFAULT_QUEUE_CAPACITY = 4_096;
    public static final int DEFAULT_PER_DEVICE_QUEUE = 64;
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;
    public static final int DEFAULT_MANAGEMENT_PORT = 9090;

    private boolean enabled = true;
    private int maxBatch = DEFAULT_MAX_BATCH;
    private long maxDelayMicros = DEFAULT_MAX_DELAY_MICROS;
    private int queueCapacity = DEFAULT_QUEUE_CAPACITY;
    private int perDeviceQueue = DEFAULT_PER_DEVICE_QUEUE;
    private int maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;
    private int managementPort = DEFAULT_MANAGEMENT_PORT;
    private String managementAddress = "127.0.0.1";
    private boolean relay;

    /** Whether {@code siteward serve} runs the inference client and the management listener (default true). */
    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    /** Most rows per ONNX Runtime call (default 32). */
    public int getMaxBatch() {
        return maxBatch;
    }

    public void setMaxBatch(int maxBatch) {
        this.maxBatch = maxBatch;
    }

    /** Longest a reading waits for its batch to fill, microseconds (default 2000). */
    public long getMaxDelayMicros() {
        return maxDelayMicros;
    }

    public void setMaxDelayMicros(long maxDelayMicros) {
        this.maxDelayMicros = maxDelayMicros;
    }

    /** Readings queued per model before new ones are shed (default 4096). */
    public int getQueueCapacity() {
        return queueCapacity;
    }

    public void setQueueCapacity(int queueCapacity) {
        this.queueCapacity = queueCapacity;
    }

    /** Readings queued per device and model before that device's new ones are shed (default 64). */
    public int getPerDeviceQueue() {
        return perDeviceQueue;
    }

    public void setPerDeviceQueue(int perDeviceQueue) {
        this.perDeviceQueue = perDeviceQueue;
    }

    /** Largest reading payload, bytes (default 65536); larger ones get {@code too_large}. */
    public int getMaxPayloadBytes() {
        return maxPayloadBytes;
    }

    public void setMaxPayloadBytes(int maxPayloadBytes) {
        this.maxPayloadBytes = maxPayloadBytes;
    }

    /** Management listener port for /prometheus and /health (default 9090; {@code serve --management-port}). */
    public int getManagementPort() {
        return managementPort;
    }

    public void setManagementPort(int managementPort) {
        this.managementPort = managementPort;
    }

    /** Management listener address (default 127.0.0.1: metrics are not for the network unless configured). */
    public String getManagementAddress() {
        return managementAddress;
    }

    public void setManagementAddress(String managementAddress) {
        this.managementAddress = managementAddress;
    }

    /**
     * Benchmark baseline only (default false): answer each valid reading on its result topic with
     * {@code {"seq","relay":true}} and run no model, so that the broker and MQTT path can be measured alone
     * (docs/benchmarks.md, "Shared inference end to end"). Never for production.
     */
    public boolean isRelay() {
        return relay;
    }

    public void setRelay(boolean relay) {
        this.relay = relay;
    }

    /** Batcher settings, checked. */
    public DynamicBatcher.Settings batcherSettings() {
        return new DynamicBatcher.Settings(maxBatch, maxDelayMicros, queueCapacity, perDeviceQueue);
    }
}
