package dev.siteward.gateway.devices;

import java.util.Locale;

/** Where a device stands: registered (may enroll with its factory certificate), active, suspended, revoked. */
public enum DeviceStatus {
    REGISTERED, ACTIVE, SUSPENDED, REVOKED;

    @com.fasterxml.jackson.annotation.JsonValue
    public String dbName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @com.fasterxml.jackson.annotation.JsonCreator
    public static DeviceStatus fromDb(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
