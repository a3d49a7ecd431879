package dev.siteward.device.models;

import java.time.Duration;

/**
 * The device's model state for {@code siteward-device model status}: the pinned trust document, the accepted
 * release metadata and its freshness, and per model the slots, the active one and the last result.
 *
 * @param trust    the pinned trust document, or null
 * @param metadata the accepted release metadata, or null
 */
public record ModelStatus(TrustDocument trust, ReleaseMetadata metadata, Freshness freshness,
        InstalledModels installed, Duration offlineAllowance) {
}
