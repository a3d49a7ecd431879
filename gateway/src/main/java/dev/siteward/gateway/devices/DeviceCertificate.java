package dev.siteward.gateway.devices;

import java.time.Instant;

/** A certificate issued to a device, as the device registry keeps it. */
public record DeviceCertificate(String serial, String spkiSha256, Instant notBefore, Instant notAfter,
                                Instant revokedAt, String pem) {
}
