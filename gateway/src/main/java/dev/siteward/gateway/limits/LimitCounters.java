package dev.siteward.gateway.limits;

import jakarta.inject.Singleton;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts what the abuse limits refused since start, for the metrics endpoint and {@code siteward status}: one
 * monotonically increasing counter per limit. Names are stable; a metrics publisher exports each as
 * {@code siteward_limit_refusals_total{limit="<name>"}}.
 */
@Singleton
public final class LimitCounters implements dev.siteward.gateway.metrics.MetricFamilies {

    /** Enrollment requests refused by the per-source limit of the enrollment listener. */
    public static final String ENROLL_REQUESTS = "enroll-requests";
    /** Device-listener requests refused by the per-device request rate. */
    public static final String DEVICE_REQUESTS = "device-requests";
    /** Device-listener requests refused by the per-device upload-bytes quota. */
    public static final String DEVICE_UPLOADS = "device-uploads";
    /** MQTT PUBLISH packets refused (reason code 0x97) by the per-device message rate. */
    public static final String MQTT_MESSAGES = "mqtt-messages";

    private final AtomicLong enrollRequests = new AtomicLong();
    private final AtomicLong deviceRequests = new AtomicLong();
    private final AtomicLong deviceUploads = new AtomicLong();
    private final AtomicLong deviceUploadBytes = new AtomicLong();
    private final AtomicLong mqttMessages = new AtomicLong();

    public void enrollRequestRefused() {
        enrollRequests.incrementAndGet();
    }

    public void deviceRequestRefused() {
        deviceRequests.incrementAndGet();
    }

    public void deviceUploadRefused(long bytes) {
        deviceUploads.incrementAndGet();
        deviceUploadBytes.addAndGet(Math.max(0, bytes));
    }

    public void mqttMessageRefused() {
        mqttMessages.incrementAndGet();
    }

    /** Refusals per limit name, in a fixed order. */
    public Map<String, Long> refusals() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put(ENROLL_REQUESTS, enrollRequests.get());
        m.put(DEVICE_REQUESTS, deviceRequests.get());
        m.put(DEVICE_UPLOADS, deviceUploads.get());
        m.put(MQTT_MESSAGES, mqttMessages.get());
        return m;
    }

    @Override
    public int order() {
        return 10;
    }

    /** Request-body bytes that were refused by the upload quota (declared lengths). */
    public long refusedUploadBytes() {
        return deviceUploadBytes.get();
    }

    /** The counters in the Prometheus text format (appended to the management listener's {@code /prometheus}). */
    @Override
    public String prometheus() {
        StringBuilder b = new StringBuilder();
        b.append("# HELP siteward_limit_refusals_total Requests, uploads and MQTT messages refused by a rate limit.\n");
        b.append("# TYPE siteward_limit_refusals_total counter\n");
        refusals().forEach((limit, n) -> b.append("siteward_limit_refusals_total{limit=\"").append(limit)
                .append("\"} ").append(n).append('\n'));
        b.append("# HELP siteward_limit_refused_upload_bytes_total Declared body bytes refused by the upload quota.\n");
        b.append("# TYPE siteward_limit_refused_upload_bytes_total counter\n");
        b.append("siteward_limit_refused_upload_bytes_total ").append(refusedUploadBytes()).append('\n');
        return b.toString();
    }
}
