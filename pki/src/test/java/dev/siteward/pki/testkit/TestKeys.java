package dev.siteward.pki.testkit;

import dev.siteward.pki.CryptoProviders;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Key pairs for tests, generated with the BouncyCastle provider. RSA keys are slow to generate, so
 * {@link #rsaShared(int)} hands out one cached pair per size; every other method returns a fresh pair.
 */
public final class TestKeys {

    private static final Map<Integer, KeyPair> RSA_CACHE = new ConcurrentHashMap<>();

    private TestKeys() {
    }

    /** A fresh EC key pair on NIST P-256 (secp256r1). */
    public static KeyPair p256() {
        return ec("secp256r1");
    }

    /** A fresh EC key pair on NIST P-384 (secp384r1). */
    public static KeyPair p384() {
        return ec("secp384r1");
    }

    /** A fresh EC key pair on any named curve BouncyCastle knows, e.g. {@code secp256k1} or {@code secp521r1}. */
    public static KeyPair ec(String curve) {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC", CryptoProviders.bouncyCastle());
            gen.initialize(new ECGenParameterSpec(curve));
            return gen.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate an EC key on " + curve, e);
        }
    }

    /** A fresh Ed25519 key pair. */
    public static KeyPair ed25519() {
        try {
            return KeyPairGenerator.getInstance("Ed25519", CryptoProviders.bouncyCastle()).generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate an Ed25519 key", e);
        }
    }

    /** A fresh RSA key pair of {@code bits} bits (slow for 2048 and above: prefer {@link #rsaShared}). */
    public static KeyPair rsa(int bits) {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA", CryptoProviders.bouncyCastle());
            gen.initialize(bits);
            return gen.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate an RSA-" + bits + " key", e);
        }
    }

    /** One RSA key pair of this size shared by every caller in the JVM (RSA generation costs up to a second). */
    public static KeyPair rsaShared(int bits) {
        return RSA_CACHE.computeIfAbsent(bits, TestKeys::rsa);
    }
}
