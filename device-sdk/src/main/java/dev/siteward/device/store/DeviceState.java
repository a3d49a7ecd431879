package dev.siteward.device.store;

import dev.siteward.device.keys.KeyReference;
import java.net.URI;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * Everything a device knows about its identity, committed as one file ({@code device.json}): who it is, its
 * certificate chain (leaf first, without the root), the pinned site root, the gateway's URLs, and where its key is.
 *
 * @param pkcs11Config the SunPKCS11 configuration file when the key is in a token, else null
 * @param renewedAt    when the certificate was last renewed, or null when it is the enrolled one
 */
public record DeviceState(String deviceId, String spiffeId, String trustDomain, List<X509Certificate> chain,
        X509Certificate root, URI enrollUrl, URI deviceUrl, KeyReference key, Path pkcs11Config, Instant enrolledAt,
        Instant renewedAt) {

    public DeviceState {
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a device state needs a certificate");
        }
    }

    /** The device certificate (first in the chain). */
    public X509Certificate certificate() {
        return chain.get(0);
    }

    /** The same identity with a renewed chain and key. */
    public DeviceState renewed(List<X509Certificate> newChain, KeyReference newKey, Instant at) {
        return new DeviceState(deviceId, spiffeId, trustDomain, newChain, root, enrollUrl, deviceUrl, newKey,
                pkcs11Config, enrolledAt, at);
    }
}
