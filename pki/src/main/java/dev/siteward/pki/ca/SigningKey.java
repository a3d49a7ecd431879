package dev.siteward.pki.ca;

import dev.siteward.pki.KeyType;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;

/**
 * A CA signing key: a handle to the private key (a software key, or a PKCS#11 token object that never leaves the
 * token), its public key, and the provider that must do the signing.
 */
public record SigningKey(PrivateKey privateKey, PublicKey publicKey, Provider provider, KeyType type) {
}
