package dev.siteward.device.keys;

import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceException.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.security.auth.login.FailedLoginException;

/**
 * Device keys in a PKCS#11 token through Java's SunPKCS11 provider. Keys are generated inside the token and never
 * leave it; the provider configuration must make generated private keys token objects that are sensitive and not
 * extractable (see docs/device-sdk.md). Once its certificate is issued, a key is stored with its chain under the
 * label {@code siteward-device-<random>}. A key generated for a request the gateway refused stays in the token
 * without a label (SunPKCS11 cannot name or delete it); it is never used.
 */
public final class Pkcs11DeviceKeyStore implements DeviceKeyStore {

    /** The environment variable holding the token PIN when no PIN file is given. */
    public static final String PIN_ENV = "SITEWARD_PKCS11_PIN";

    private static final Map<Path, Provider> PROVIDERS = new ConcurrentHashMap<>();

    private final Path config;
    private final Provider provider;
    private final KeyStore keyStore;

    /** Configures SunPKCS11 from {@code config} (once per JVM and file) and logs in with {@code pin}. */
    public Pkcs11DeviceKeyStore(Path config, char[] pin) throws DeviceException {
        this.config = config.toAbsolutePath().normalize();
        if (!Files.isReadable(this.config)) {
            throw new DeviceException(Reason.BAD_INPUT, "PKCS#11 config not readable: " + config);
        }
        if (pin == null || pin.length == 0) {
            throw new DeviceException(Reason.BAD_INPUT, "PKCS#11 PIN missing: set " + PIN_ENV + " or use --pin-file");
        }
        try {
            provider = PROVIDERS.computeIfAbsent(this.config, c -> {
                Provider p = Security.getProvider("SunPKCS11").configure(c.toString());
                Security.addProvider(p);
                return p;
            });
        } catch (RuntimeException e) {
            throw new DeviceException(Reason.KEY_UNAVAILABLE, "PKCS#11 config " + config + " is not usable: "
                    + rootMessage(e), e);
        }
        try {
            keyStore = KeyStore.getInstance("PKCS11", provider);
            keyStore.load(null, pin);
        } catch (IOException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof FailedLoginException) {
                    throw new DeviceException(Reason.BAD_INPUT, "PKCS#11 login failed: wrong PIN", e);
                }
            }
            throw new DeviceException(Reason.KEY_UNAVAILABLE, "PKCS#11 token not usable: " + rootMessage(e), e);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new DeviceException(Reason.KEY_UNAVAILABLE, "PKCS#11 token not usable: " + rootMessage(e), e);
        }
    }

    /** Reads the PIN from the first line of {@code pinFile}, or else from {@link #PIN_ENV}. */
    public static char[] pin(Path pinFile) throws DeviceException {
        if (pinFile != null) {
            try {
                return Files.readString(pinFile).lines().findFirst().orElse("").strip().toCharArray();
            } catch (IOException e) {
                throw new DeviceException(Reason.BAD_INPUT, "cannot read the PIN file " + pinFile, e);
            }
        }
        String env = System.getenv(PIN_ENV);
        return env == null ? null : env.toCharArray();
    }

    public Path config() {
        return config;
    }

    @Override
    public KeyPair generate() throws DeviceException {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC", provider);
            gen.initialize(new ECGenParameterSpec("secp256r1"));
            return gen.generateKeyPair();
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new DeviceException(Reason.KEY_UNAVAILABLE, "cannot generate a key in the token: " + rootMessage(e),
                    e);
        }
    }

    @Override
    public KeyReference store(KeyPair keys, List<X509Certificate> chain) throws DeviceException {
        byte[] nonce = new byte[6];
        new SecureRandom().nextBytes(nonce);
        String label = "siteward-device-" + HexFormat.of().formatHex(nonce);
        try {
            keyStore.setKeyEntry(label, keys.getPrivate(), null, chain.toArray(new Certificate[0]));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new DeviceException(Reason.STORAGE, "cannot store the certificate in the token: " + rootMessage(e),
                    e);
        }
        return new KeyReference(KeyReference.PKCS11, label);
    }

    @Override
    public PrivateKey load(KeyReference reference) throws DeviceException {
        try {
            Key key = keyStore.getKey(reference.name(), null);
            if (!(key instanceof PrivateKey pk)) {
                throw new DeviceException(Reason.KEY_UNAVAILABLE, "the token holds no key labelled "
                        + reference.name());
            }
            return pk;
        } catch (GeneralSecurityException e) {
            throw new DeviceException(Reason.KEY_UNAVAILABLE, "cannot read key " + reference.name()
                    + " from the token: " + rootMessage(e), e);
        }
    }

    @Override
    public void delete(KeyReference reference) {
        try {
            keyStore.deleteEntry(reference.name());
        } catch (GeneralSecurityException | RuntimeException ignored) {
            // an unreferenced token object is never used
        }
    }

    @Override
    public Provider signatureProvider() {
        return provider;
    }

    @Override
    public String type() {
        return KeyReference.PKCS11;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
