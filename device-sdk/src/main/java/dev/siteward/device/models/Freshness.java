package dev.siteward.device.models;

/** How current the device's accepted release metadata is. */
public enum Freshness {
    /** No release metadata accepted yet. */
    NONE,
    /** Before its expiry. */
    FRESH,
    /**
     * Expired, but within the offline allowance: the device was probably cut off from the gateway. The installed
     * model keeps running; the application is told.
     */
    OFFLINE,
    /**
     * Expired beyond the offline allowance: frozen. The installed model still runs (a device is never bricked), but
     * nothing is installed until fresh metadata arrives, and status reports {@code metadata.expired}.
     */
    FROZEN
}
