package dev.siteward.pki.testkit;

import dev.siteward.pki.SecureFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Writes PKCS#12 key stores and trust stores (files, mode 0600) for mTLS tests, e.g. Micronaut's
 * {@code micronaut.server.ssl.key-store.path: file:...}. Nothing is ever checked in: tests make them in a temp dir.
 */
public final class Pkcs12Stores {

    private Pkcs12Stores() {
    }

    /**
     * Writes a PKCS#12 key store holding one private key entry under {@code alias} with its chain (leaf first).
     *
     * @return {@code file}
     */
    public static Path writeKeyStore(Path file, String alias, PrivateKey key, List<X509Certificate> chain,
                                     char[] password) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry(alias, key, password, chain.toArray(new Certificate[0]));
            return write(ks, file, password);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot write key store " + file, e);
        }
    }

    /**
     * Writes a PKCS#12 trust store holding each certificate as a trusted entry ({@code ca-0}, {@code ca-1}, ...).
     *
     * @return {@code file}
     */
    public static Path writeTrustStore(Path file, List<X509Certificate> trusted, char[] password) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            for (int i = 0; i < trusted.size(); i++) {
                ks.setCertificateEntry("ca-" + i, trusted.get(i));
            }
            return write(ks, file, password);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot write trust store " + file, e);
        }
    }

    /** Loads a PKCS#12 file, e.g. to check what a test wrote. */
    public static KeyStore load(Path file, char[] password) {
        try (var in = java.nio.file.Files.newInputStream(file)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password);
            return ks;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot read key store " + file, e);
        }
    }

    private static Path write(KeyStore ks, Path file, char[] password) throws GeneralSecurityException, IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ks.store(out, password);
        SecureFiles.writeAtomically(file, out.toByteArray(), true);
        return file;
    }
}
