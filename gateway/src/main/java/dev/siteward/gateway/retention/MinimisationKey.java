package dev.siteward.gateway.retention;

import dev.siteward.pki.SecureFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The gateway's key for the keyed hash that replaces minimised fields: 32 random bytes in
 * {@code <data>/retention/minimisation.key} (mode 0600), created on first use and never leaving the gateway. The
 * same value hashes to the same text under one key, so hashed fields still group and join, but cannot be read back
 * or confirmed by guessing without the key.
 */
public final class MinimisationKey {

    /** Where the key lives under the data dir. */
    public static final String FILE = "retention/minimisation.key";
    /** The prefix of every hashed value. */
    public static final String PREFIX = "hmac-sha256:";

    private final SecretKeySpec key;

    private MinimisationKey(byte[] raw) {
        this.key = new SecretKeySpec(raw, "HmacSHA256");
    }

    /** Loads the key of {@code dataDir}, creating it (0600, written atomically) when there is none. */
    public static synchronized MinimisationKey ensure(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE);
        if (!Files.exists(file)) {
            SecureFiles.createPrivateDirectory(file.getParent());
            byte[] raw = new byte[32];
            new SecureRandom().nextBytes(raw);
            SecureFiles.writeAtomically(file, HexFormat.of().formatHex(raw) + "\n", true);
        }
        String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
        byte[] raw;
        try {
            raw = HexFormat.of().parseHex(text);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + " is not a hex key");
        }
        if (raw.length != 32) {
            throw new IOException(file + " must hold 32 bytes (64 hex digits)");
        }
        return new MinimisationKey(raw);
    }

    /** For tests and tools: a key from raw bytes. */
    public static MinimisationKey of(byte[] raw) {
        return new MinimisationKey(raw.clone());
    }

    /** {@code hmac-sha256:} and the hex HMAC-SHA256 of the UTF-8 text. */
    public String hash(String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return PREFIX + HexFormat.of().formatHex(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
