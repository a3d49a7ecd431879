package dev.siteward.device.keys;

import dev.siteward.device.DeviceException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Where device keys are generated and kept: a PKCS#12 file per key ({@link Pkcs12DeviceKeyStore}) or a PKCS#11 token
 * ({@link Pkcs11DeviceKeyStore}). A key is generated first, used to sign its CSR, and stored under a new name only
 * once the gateway has issued its certificate, so a failed enrollment or renewal never replaces a working key.
 */
public interface DeviceKeyStore {

    /** Generates a new EC P-256 key pair (inside the token for PKCS#11; there the private key never leaves it). */
    KeyPair generate() throws DeviceException;

    /** Stores the key with its certificate chain under a new name and returns the reference to record. */
    KeyReference store(KeyPair keys, List<X509Certificate> chain) throws DeviceException;

    /** Loads the private key a reference names. */
    PrivateKey load(KeyReference reference) throws DeviceException;

    /** Removes a key that is no longer referenced; failures are ignored (best effort). */
    void delete(KeyReference reference);

    /** The provider that must sign with this store's keys, or null for the JDK's choice. */
    Provider signatureProvider();

    /** {@link KeyReference#PKCS12} or {@link KeyReference#PKCS11}. */
    String type();
}
