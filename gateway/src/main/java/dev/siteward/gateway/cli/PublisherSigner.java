package dev.siteward.gateway.cli;

import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.modelsig.ModelSigner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.security.auth.login.FailedLoginException;
import picocli.CommandLine.Option;

/**
 * The publisher key options shared by {@code siteward model sign} and {@code siteward policy sign}, and the
 * {@link ModelSigner} they describe: a PEM key file (PKCS#8 or SEC 1), or with {@code --pkcs11-config} a key that
 * stays in a PKCS#11 token (SunPKCS11), named by its alias. A PIN the token refuses is a refused credential (exit
 * 3); a missing PIN, alias or unusable configuration is bad input (exit 2).
 */
final class PublisherSigner {

    @Option(names = "--pkcs11-config", paramLabel = "FILE",
            description = "SunPKCS11 configuration: KEY is then the alias (label) of a key in the token; the PIN "
                    + "comes from $SITEWARD_PKCS11_PIN or --pin-file.")
    Path pkcs11Config;

    @Option(names = "--pin-file", paramLabel = "FILE",
            description = "File holding the PKCS#11 user PIN (default: $SITEWARD_PKCS11_PIN).")
    Path pinFile;

    /**
     * Returns the signer for {@code key} (a PEM file, or a token alias with {@code --pkcs11-config}). With a chain
     * (signing certificate first, then intermediates) it signs in certificate mode, else in key mode.
     */
    ModelSigner signer(String key, List<X509Certificate> chain) {
        if (pkcs11Config == null) {
            PrivateKey privateKey = PemFiles.privateKey(Path.of(key), "--key");
            if (chain != null) {
                return ModelSigner.withCertificateChain(privateKey, chain);
            }
            try {
                return ModelSigner.withPublicKey(privateKey, KeyMaterial.publicKeyOf(privateKey));
            } catch (GeneralSecurityException e) {
                throw CliException.badInput("--key " + key + ": " + e.getMessage());
            }
        }
        return tokenSigner(key, chain);
    }

    private ModelSigner tokenSigner(String alias, List<X509Certificate> chain) {
        if (!Files.isReadable(pkcs11Config)) {
            throw CliException.badInput("PKCS#11 config not readable: " + pkcs11Config);
        }
        char[] pin = Secrets.resolve(pinFile, "SITEWARD_PKCS11_PIN", "PIN");
        if (pin == null) {
            throw CliException.badInput("PKCS#11 PIN missing: set SITEWARD_PKCS11_PIN or use --pin-file");
        }
        Provider provider;
        try {
            provider = Security.getProvider("SunPKCS11").configure(pkcs11Config.toAbsolutePath().toString());
        } catch (RuntimeException e) {
            throw new CliException(CliException.BAD_INPUT, "PKCS#11 config " + pkcs11Config + " is not usable: "
                    + rootMessage(e), e);
        }
        try {
            KeyStore store = KeyStore.getInstance("PKCS11", provider);
            store.load(null, pin);
            Key key = store.getKey(alias, null);
            if (!(key instanceof PrivateKey privateKey)) {
                throw CliException.badInput("the token holds no private key with alias '" + alias + "'");
            }
            if (chain != null) {
                return ModelSigner.withCertificateChain(privateKey, chain).withProvider(provider);
            }
            Certificate cert = store.getCertificate(alias);
            if (cert == null) {
                throw CliException.badInput("the token holds no certificate for alias '" + alias
                        + "' to take the public key from; pass --cert-chain");
            }
            PublicKey publicKey = cert.getPublicKey();
            return ModelSigner.withPublicKey(privateKey, publicKey).withProvider(provider);
        } catch (IOException e) {
            if (hasCause(e, FailedLoginException.class)) {
                throw new CliException(CliException.BAD_INPUT, "PKCS#11 login refused: wrong PIN", e);
            }
            throw new CliException(CliException.BAD_INPUT, "PKCS#11 token not usable: " + rootMessage(e), e);
        } catch (GeneralSecurityException e) {
            throw new CliException(CliException.BAD_INPUT, "PKCS#11 token not usable: " + rootMessage(e), e);
        } finally {
            java.util.Arrays.fill(pin, '\0');
        }
    }

    private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }
}
