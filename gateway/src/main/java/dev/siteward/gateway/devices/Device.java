package dev.siteward.gateway.devices;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A device in the registry.
 *
 * @param id            device id (also the certificate CN and the SPIFFE id's last segment)
 * @param status        registered, active, suspended or revoked
 * @param labels        labels; {@code class} and {@code channel} are reserved for model releases
 * @param registered    pre-registered for factory-certificate (IDevID) enrollment
 * @param idevidIssuer  issuer of the factory certificate bound to this id, once claimed
 * @param idevidSerial  serial (hex) of the factory certificate allowed or bound
 * @param createdAt     when the registry first knew the device
 * @param enrolledAt    last enrollment or renewal
 * @param lastSeenAt    last authenticated request
 * @param certificates  certificates issued to the device, newest first
 */
public record Device(String id, DeviceStatus status, Map<String, String> labels, boolean registered,
                     String idevidIssuer, String idevidSerial, Instant createdAt, Instant enrolledAt,
                     Instant lastSeenAt, List<DeviceCertificate> certificates) {

    public Device {
        labels = labels == null ? Map.of() : labels;
        certificates = certificates == null ? List.of() : certificates;
    }

    /** The newest certificate that is neither revoked nor expired at {@code now}, if any. */
    public DeviceCertificate currentCertificate(Instant now) {
        for (DeviceCertificate c : certificates) {
            if (c.revokedAt() == null && c.notAfter().isAfter(now)) {
                return c;
            }
        }
        return null;
    }
}
