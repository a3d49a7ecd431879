package dev.siteward.policies.retention;

import java.util.Arrays;
import java.util.Optional;

/** The data classes the gateway stores, each with the name used in policies, URLs and the database. */
public enum DataClass {
    SENSOR_READINGS("sensor-readings"),
    INFERENCE_RESULTS("inference-results"),
    ACTION_DECISIONS("action-decisions"),
    AUDIT_RECORDS("audit-records"),
    DEVICE_REPORTS("device-reports"),
    DEVICE_LOGS("device-logs"),
    BLOBS("blobs");

    private final String id;

    DataClass(String id) {
        this.id = id;
    }

    /** The name used in policy files, routes and the database, e.g. {@code sensor-readings}. */
    public String id() {
        return id;
    }

    /** True for classes whose records are raw bodies (no JSON fields). */
    public boolean raw() {
        return this == BLOBS;
    }

    /** The class with this name, if there is one. */
    public static Optional<DataClass> byId(String id) {
        return Arrays.stream(values()).filter(c -> c.id.equals(id)).findFirst();
    }
}
