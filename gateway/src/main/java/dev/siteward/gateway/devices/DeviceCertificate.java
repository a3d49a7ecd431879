package dev.siteward.gateway.devices;

import java.time.Instant;

/** A certificate issued to a device, as the CA's registry records it. */
public record DeviceCertificate(String serial, Instant notBefore, Instant notAfter, Instant revokedAt,
                                String revocationReason) {
}
