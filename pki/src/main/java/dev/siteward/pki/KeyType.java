package dev.siteward.pki;

import java.util.Locale;

/** Key types a Siteward CA can hold. The signature hash follows the curve (RFC 5480 section 4). */
public enum KeyType {
    P256("secp256r1", "SHA256withECDSA", 256),
    P384("secp384r1", "SHA384withECDSA", 384);

    private final String curve;
    private final String signatureAlgorithm;
    private final int bits;

    KeyType(String curve, String signatureAlgorithm, int bits) {
        this.curve = curve;
        this.signatureAlgorithm = signatureAlgorithm;
        this.bits = bits;
    }

    public String curve() {
        return curve;
    }

    public String signatureAlgorithm() {
        return signatureAlgorithm;
    }

    public int bits() {
        return bits;
    }

    /** The CLI spelling ({@code p256}, {@code p384}). */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses the CLI spelling; throws {@link IllegalArgumentException} naming the accepted values. */
    public static KeyType parse(String text) {
        for (KeyType t : values()) {
            if (t.cliName().equalsIgnoreCase(text)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown key type '" + text + "' (expected p256 or p384)");
    }

    /** The key type of an EC public key with this field size, or null. */
    public static KeyType ofFieldSize(int bits) {
        for (KeyType t : values()) {
            if (t.bits == bits) {
                return t;
            }
        }
        return null;
    }
}
