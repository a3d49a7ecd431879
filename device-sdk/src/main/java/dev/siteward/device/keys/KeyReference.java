package dev.siteward.device.keys;

/**
 * Where a device key lives, as recorded in {@code device.json}: {@code pkcs12} with the base name of the files in
 * the directory's {@code keys/} folder, or {@code pkcs11} with the token label.
 */
public record KeyReference(String type, String name) {

    public static final String PKCS12 = "pkcs12";
    public static final String PKCS11 = "pkcs11";

    public KeyReference {
        if (!PKCS12.equals(type) && !PKCS11.equals(type)) {
            throw new IllegalArgumentException("unknown key type " + type);
        }
        if (name == null || !name.matches("[A-Za-z0-9._-]{1,100}")) {
            throw new IllegalArgumentException("invalid key name " + name);
        }
    }
}
