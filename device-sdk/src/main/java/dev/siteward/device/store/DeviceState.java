package dev.siteward.device.store;

import dev.siteward.device.keys.KeyReference;
import java.net.URI;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything a device knows about its identity, committed as one file ({@code device.json}): who it is, its
 * certificate chain (leaf first, without the root), the pinned site root, the gateway's URLs, and where its key is.
 *
 * @param pkcs11Config the SunPKCS11 configuration file when the key is in a token, else null
 * @param renewedAt    when the certificate was last renewed, or null when it is the enrolled one
 * @param formerRoots  roots pinned before a root rollover, kept (newest first) next to the adopted {@code root}
 *                     until they expire, so that chains to either validate through the overlap
 */
public record DeviceState(String deviceId, String spiffeId, String trustDomain, List<X509Certificate> chain,
        X509Certificate root, URI enrollUrl, URI deviceUrl, KeyReference key, Path pkcs11Config, Instant enrolledAt,
        Instant renewedAt, List<X509Certificate> formerRoots) {

    public DeviceState {
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a device state needs a certificate");
        }
        formerRoots = formerRoots == null ? List.of() : List.copyOf(formerRoots);
    }

    /** A state with no earlier root (before any root rollover). */
    public DeviceState(String deviceId, String spiffeId, String trustDomain, List<X509Certificate> chain,
            X509Certificate root, URI enrollUrl, URI deviceUrl, KeyReference key, Path pkcs11Config,
            Instant enrolledAt, Instant renewedAt) {
        this(deviceId, spiffeId, trustDomain, chain, root, enrollUrl, deviceUrl, key, pkcs11Config, enrolledAt,
                renewedAt, List.of());
    }

    /** The device certificate (first in the chain). */
    public X509Certificate certificate() {
        return chain.get(0);
    }

    /** The roots this device trusts at {@code at}: the pinned root first, then earlier roots not yet expired. */
    public List<X509Certificate> roots(Instant at) {
        List<X509Certificate> out = new ArrayList<>();
        out.add(root);
        for (X509Certificate r : formerRoots) {
            if (r.getNotAfter().toInstant().isAfter(at)) {
                out.add(r);
            }
        }
        return out;
    }

    /** The same identity with a renewed chain and key. */
    public DeviceState renewed(List<X509Certificate> newChain, KeyReference newKey, Instant at) {
        return new DeviceState(deviceId, spiffeId, trustDomain, newChain, root, enrollUrl, deviceUrl, newKey,
                pkcs11Config, enrolledAt, at, formerRoots);
    }

    /**
     * The same identity pinned to a newly adopted root; the current root joins the former roots (expired former
     * roots are dropped).
     */
    public DeviceState withAdoptedRoot(X509Certificate newRoot, Instant at) {
        List<X509Certificate> former = new ArrayList<>();
        for (X509Certificate r : roots(at)) {
            if (!r.equals(newRoot)) {
                former.add(r);
            }
        }
        return new DeviceState(deviceId, spiffeId, trustDomain, chain, newRoot, enrollUrl, deviceUrl, key,
                pkcs11Config, enrolledAt, renewedAt, former);
    }
}
