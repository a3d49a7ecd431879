package dev.siteward.gateway.rollout;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A device's stable place in a rollout: the first 64 bits of SHA-256(rollout id, NUL, device id) as a fraction in
 * [0, 1). The same device and rollout always get the same place, so a device inside a 1% stage is inside every
 * larger percentage; different rollouts order the fleet differently, so the same devices are not always first.
 */
public final class Cohort {

    private Cohort() {
    }

    public static double position(String rolloutId, String deviceId) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        md.update(rolloutId.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        byte[] h = md.digest(deviceId.getBytes(StandardCharsets.UTF_8));
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (h[i] & 0xff);
        }
        // unsigned 64-bit value / 2^64, using the top 53 bits so the double is exact
        return (v >>> 11) * 0x1.0p-53;
    }
}
