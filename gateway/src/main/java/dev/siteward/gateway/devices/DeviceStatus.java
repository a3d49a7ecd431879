package dev.siteward.gateway.devices;

import java.util.Locale;

/** Where a device stands: registered (may enroll with its factory certificate), active, suspended, revoked. */
public enum DeviceStatus {
    REGISTERED, ACTIVE, SUSPENDED, REVOKED;

    public String dbName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static DeviceStatus fromDb(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
