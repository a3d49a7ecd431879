package dev.siteward.pki.ca;

/**
 * Secrets that unlock CA keys: the key-file passphrase or the PKCS#11 PIN (either may be null). When no
 * passphrase is given, a generated one in {@code ca/passphrase} is used if present.
 */
public record CaSecrets(char[] passphrase, char[] pkcs11Pin) {

    public static CaSecrets none() {
        return new CaSecrets(null, null);
    }
}
