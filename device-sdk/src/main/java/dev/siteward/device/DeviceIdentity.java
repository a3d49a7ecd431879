package dev.siteward.device;

import dev.siteward.device.DeviceException.Reason;
import dev.siteward.device.keys.DeviceKeyStore;
import dev.siteward.device.keys.KeyReference;
import dev.siteward.device.keys.Pkcs11DeviceKeyStore;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.device.store.DeviceState;
import java.net.Socket;
import java.nio.file.Path;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A device's working credential: its committed state (id, chain, pinned root, gateway URLs) and its private key
 * (software key from the PKCS#12 file, or a handle to the key inside the PKCS#11 token). Immutable: a renewal
 * produces a new instance.
 */
public final class DeviceIdentity {

    private final DeviceState state;
    private final PrivateKey privateKey;

    public DeviceIdentity(DeviceState state, PrivateKey privateKey) {
        this.state = state;
        this.privateKey = privateKey;
    }

    /**
     * Loads the identity committed in {@code dir}, opening its key store.
     *
     * @param pinFile the PKCS#11 PIN file, or null to read {@code SITEWARD_PKCS11_PIN} (ignored for PKCS#12 keys)
     */
    public static DeviceIdentity load(DeviceDirectory dir, Path pinFile, Clock clock) throws DeviceException {
        DeviceState state = dir.load();
        return new DeviceIdentity(state, keyStore(dir, state, pinFile, clock).load(state.key()));
    }

    /** The key store the committed state's key lives in. */
    public static DeviceKeyStore keyStore(DeviceDirectory dir, DeviceState state, Path pinFile, Clock clock)
            throws DeviceException {
        if (KeyReference.PKCS11.equals(state.key().type())) {
            if (state.pkcs11Config() == null) {
                throw new DeviceException(Reason.STORAGE, dir.stateFile() + ": a PKCS#11 key without its config");
            }
            return new Pkcs11DeviceKeyStore(state.pkcs11Config(), Pkcs11DeviceKeyStore.pin(pinFile));
        }
        return new Pkcs12DeviceKeyStore(dir.keysDir(), clock);
    }

    public DeviceState state() {
        return state;
    }

    public String deviceId() {
        return state.deviceId();
    }

    public X509Certificate certificate() {
        return state.certificate();
    }

    /** The device certificate and its issuing CA (leaf first, without the root). */
    public List<X509Certificate> chain() {
        return state.chain();
    }

    /** The pinned site root: the only certificate this device trusts (with, after a root rollover, {@link #roots}). */
    public X509Certificate root() {
        return state.root();
    }

    /**
     * The roots this device trusts at {@code at}: the pinned root, then the root it pinned before a root rollover
     * while that one has not expired.
     */
    public List<X509Certificate> roots(java.time.Instant at) {
        return state.roots(at);
    }

    public PrivateKey privateKey() {
        return privateKey;
    }

    public Instant expires() {
        return certificate().getNotAfter().toInstant();
    }

    /** A key manager that presents this credential as the TLS client certificate. */
    public KeyManager[] keyManagers() {
        X509Certificate[] chain = chain().toArray(new X509Certificate[0]);
        return new KeyManager[] {new X509ExtendedKeyManager() {
            private static final String ALIAS = "device";

            @Override
            public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
                return match(keyType);
            }

            @Override
            public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
                return match(keyType);
            }

            private String match(String[] keyType) {
                return keyType == null || Arrays.asList(keyType).contains(privateKey.getAlgorithm())
                        || Arrays.asList(keyType).contains("EC") ? ALIAS : null;
            }

            @Override
            public String[] getClientAliases(String keyType, Principal[] issuers) {
                return new String[] {ALIAS};
            }

            @Override
            public String[] getServerAliases(String keyType, Principal[] issuers) {
                return null;
            }

            @Override
            public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
                return null;
            }

            @Override
            public X509Certificate[] getCertificateChain(String alias) {
                return ALIAS.equals(alias) ? chain.clone() : null;
            }

            @Override
            public PrivateKey getPrivateKey(String alias) {
                return ALIAS.equals(alias) ? privateKey : null;
            }
        }};
    }
}
