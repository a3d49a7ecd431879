package dev.siteward.pki.ca;

import dev.siteward.pki.KeyType;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.PkiException.Reason;
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
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.security.auth.login.FailedLoginException;

/**
 * CA keys in a PKCS#11 token through Java's SunPKCS11 provider. Keys are generated in the token and never leave it;
 * the provider configuration must make generated private keys token objects ({@code CKA_TOKEN = true},
 * {@code CKA_SENSITIVE = true}, {@code CKA_EXTRACTABLE = false}; see docs/pki.md). The token's key store lists only
 * keys with a certificate, so each key is stored bound to its CA certificate.
 */
public final class Pkcs11CaKeyStore implements CaKeyStore {

    private static final Map<Path, Provider> PROVIDERS = new ConcurrentHashMap<>();
    /**
     * SHA-256 of the PIN each configured token was first logged in with. SunPKCS11 stays logged in for the life of
     * the JVM and would accept any PIN afterwards; a different PIN is refused here instead.
     */
    private static final Map<Path, byte[]> LOGGED_IN_PINS = new ConcurrentHashMap<>();

    private final Path config;
    private final Provider provider;
    private final KeyStore keyStore;
    private final String aliasPrefix;

    /**
     * Configures SunPKCS11 from {@code config} and logs in with {@code pin}.
     *
     * @param aliasPrefix prefix of the token labels, so a site CA and a publisher CA can share a token
     */
    public Pkcs11CaKeyStore(Path config, char[] pin, String aliasPrefix) throws PkiException {
        this.config = config.toAbsolutePath().normalize();
        this.aliasPrefix = aliasPrefix;
        if (!Files.isReadable(this.config)) {
            throw new PkiException(Reason.PKCS11_CONFIG_INVALID, "PKCS#11 config not readable: " + config);
        }
        if (pin == null || pin.length == 0) {
            throw new PkiException(Reason.PKCS11_LOGIN_FAILED,
                    "PKCS#11 PIN missing: set SITEWARD_PKCS11_PIN or use --pin-file");
        }
        try {
            this.provider = PROVIDERS.computeIfAbsent(this.config, c -> {
                Provider p = Security.getProvider("SunPKCS11").configure(c.toString());
                Security.addProvider(p);
                return p;
            });
        } catch (RuntimeException e) {
            throw new PkiException(Reason.PKCS11_CONFIG_INVALID, "PKCS#11 config " + config + " is not usable: "
                    + rootMessage(e), e);
        }
        byte[] pinHash = pinHash(pin);
        byte[] earlier = LOGGED_IN_PINS.get(this.config);
        if (earlier != null && !java.security.MessageDigest.isEqual(earlier, pinHash)) {
            throw new PkiException(Reason.PKCS11_LOGIN_FAILED, "PKCS#11 login failed: wrong PIN");
        }
        try {
            keyStore = KeyStore.getInstance("PKCS11", provider);
            keyStore.load(null, pin);
            LOGGED_IN_PINS.putIfAbsent(this.config, pinHash);
        } catch (IOException e) {
            if (hasCause(e, FailedLoginException.class)) {
                throw new PkiException(Reason.PKCS11_LOGIN_FAILED, "PKCS#11 login failed: wrong PIN", e);
            }
            throw new PkiException(Reason.PKCS11_LOGIN_FAILED, "PKCS#11 token not usable: " + rootMessage(e), e);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new PkiException(Reason.PKCS11_CONFIG_INVALID, "PKCS#11 token not usable: " + rootMessage(e), e);
        }
    }

    private static byte[] pinHash(char[] pin) {
        return dev.siteward.pki.Certificates.sha256(new String(pin).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private String label(String alias) {
        return aliasPrefix + alias;
    }

    @Override
    public SigningKey generate(String alias, KeyType type) throws PkiException {
        try {
            if (keyStore.containsAlias(label(alias))) {
                throw new PkiException(Reason.CA_ALREADY_INITIALIZED, "the token already holds a key labelled "
                        + label(alias));
            }
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC", provider);
            gen.initialize(new ECGenParameterSpec(type.curve()));
            KeyPair pair = gen.generateKeyPair();
            return new SigningKey(pair.getPrivate(), pair.getPublic(), provider, type);
        } catch (GeneralSecurityException e) {
            throw new PkiException(Reason.INTERNAL, "cannot generate a key in the token: " + rootMessage(e), e);
        }
    }

    @Override
    public void store(String alias, SigningKey key, X509Certificate certificate) throws PkiException {
        try {
            keyStore.setKeyEntry(label(alias), key.privateKey(), null, new Certificate[] {certificate});
        } catch (GeneralSecurityException e) {
            throw new PkiException(Reason.STORAGE, "cannot store the certificate in the token: " + rootMessage(e), e);
        }
    }

    @Override
    public SigningKey load(String alias, X509Certificate certificate) throws PkiException {
        try {
            Key key = keyStore.getKey(label(alias), null);
            if (!(key instanceof PrivateKey privateKey)) {
                throw new PkiException(Reason.KEY_UNAVAILABLE, "the token holds no key labelled " + label(alias));
            }
            KeyType type = KeyType.ofFieldSize(((ECKey) certificate.getPublicKey()).getParams().getCurve()
                    .getField().getFieldSize());
            return new SigningKey(privateKey, certificate.getPublicKey(), provider, type);
        } catch (GeneralSecurityException e) {
            throw new PkiException(Reason.KEY_UNAVAILABLE, "cannot read key " + label(alias) + " from the token", e);
        }
    }

    @Override
    public boolean contains(String alias) throws PkiException {
        try {
            return keyStore.containsAlias(label(alias));
        } catch (GeneralSecurityException e) {
            throw new PkiException(Reason.KEY_UNAVAILABLE, "cannot list the token", e);
        }
    }

    @Override
    public void exportAndRemove(String alias, Path out) throws PkiException {
        throw new PkiException(Reason.KEY_UNAVAILABLE,
                "keys in a PKCS#11 token cannot be exported; keep the token offline instead");
    }

    @Override
    public String describe() {
        return "PKCS#11 token (config " + config + ")";
    }

    private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }
}
