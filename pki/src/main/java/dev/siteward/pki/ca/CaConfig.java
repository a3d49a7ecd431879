package dev.siteward.pki.ca;

import dev.siteward.pki.KeyType;
import java.time.Instant;

/**
 * The persisted description of a CA ({@code ca/ca.json}).
 *
 * @param formatVersion    layout version of the CA directory
 * @param kind             site or publisher
 * @param trustDomain      the SPIFFE trust domain of every identity issued
 * @param keyType          the CA key type
 * @param keyStorage       {@code file} or {@code pkcs11}
 * @param pkcs11Config     absolute path of the SunPKCS11 config, when keyStorage is pkcs11
 * @param pkcs11Labels     prefix of this CA's key labels in the token, when keyStorage is pkcs11
 * @param crlUrl           the CRL distribution point put into issued certificates, or null
 * @param crlValidityHours how long each CRL is valid (nextUpdate - thisUpdate)
 * @param createdAt        when the CA was created
 * @param issuingGeneration the current issuing CA generation (1 when absent: before the first rotation)
 * @param rootGeneration   the current root generation (1 when absent: before the first root rollover)
 * @param rootsRetiredThrough every root generation up to this one was retired by an operator (null: none)
 */
public record CaConfig(int formatVersion, CaKind kind, String trustDomain, KeyType keyType, String keyStorage,
                       String pkcs11Config, String pkcs11Labels, String crlUrl, int crlValidityHours, Instant createdAt,
                       Integer issuingGeneration, Integer rootGeneration, Integer rootsRetiredThrough) {

    /** The current issuing generation. */
    public int currentGeneration() {
        return issuingGeneration == null ? 1 : issuingGeneration;
    }

    /** The current root generation. */
    public int currentRootGeneration() {
        return rootGeneration == null ? 1 : rootGeneration;
    }

    /** The highest root generation an operator retired, 0 when none. */
    public int retiredRootsThrough() {
        return rootsRetiredThrough == null ? 0 : rootsRetiredThrough;
    }

    public CaConfig withGeneration(int generation) {
        return new CaConfig(formatVersion, kind, trustDomain, keyType, keyStorage, pkcs11Config, pkcs11Labels, crlUrl,
                crlValidityHours, createdAt, generation, rootGeneration, rootsRetiredThrough);
    }

    public CaConfig withRoot(int root, int issuing) {
        return new CaConfig(formatVersion, kind, trustDomain, keyType, keyStorage, pkcs11Config, pkcs11Labels, crlUrl,
                crlValidityHours, createdAt, issuing, root, rootsRetiredThrough);
    }

    public CaConfig withRootsRetiredThrough(int root) {
        return new CaConfig(formatVersion, kind, trustDomain, keyType, keyStorage, pkcs11Config, pkcs11Labels, crlUrl,
                crlValidityHours, createdAt, issuingGeneration, rootGeneration, root);
    }

    public static final int FORMAT_VERSION = 1;
    public static final String STORAGE_FILE = "file";
    public static final String STORAGE_PKCS11 = "pkcs11";
}
