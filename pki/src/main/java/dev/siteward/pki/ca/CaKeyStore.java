package dev.siteward.pki.ca;

import dev.siteward.pki.KeyType;
import dev.siteward.pki.PkiException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;

/**
 * Where a CA keeps its private keys: encrypted PKCS#8 files, or a PKCS#11 token. Keys are named by alias
 * ({@code root}, {@code issuing}).
 */
public interface CaKeyStore {

    /** Generates a new key pair inside the store's boundary; nothing is persisted until {@link #store}. */
    SigningKey generate(String alias, KeyType type) throws PkiException;

    /** Persists the key generated under this alias, bound to its certificate. */
    void store(String alias, SigningKey key, X509Certificate certificate) throws PkiException;

    /** Loads the key for this alias; {@code certificate} is the matching certificate. */
    SigningKey load(String alias, X509Certificate certificate) throws PkiException;

    /** True when the store holds a key under this alias. */
    boolean contains(String alias) throws PkiException;

    /** Writes the key, encrypted, to {@code out} (mode 0600) and deletes it from the store. */
    void exportAndRemove(String alias, Path out) throws PkiException;

    /** A short description for {@code ca show}: "files (encrypted PKCS#8)" or "PKCS#11 (config ...)". */
    String describe();
}
