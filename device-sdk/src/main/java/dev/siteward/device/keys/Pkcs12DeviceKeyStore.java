package dev.siteward.device.keys;

import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceException.Reason;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.SecureFiles;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * Device keys in PKCS#12 files, one per key: {@code keys/<name>.p12} holds the key and its chain, protected by a
 * random password in {@code keys/<name>.pass}. Both are created with mode 0600 from the start, written atomically
 * (temporary file, fsync, rename). The password keeps the key from being read by tools that expect no password;
 * the file mode is what protects it (a PKCS#11 token is the choice where that is not enough).
 */
public final class Pkcs12DeviceKeyStore implements DeviceKeyStore {

    static final String ALIAS = "device";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    private final Path keysDir;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    public Pkcs12DeviceKeyStore(Path keysDir, Clock clock) {
        this.keysDir = keysDir;
        this.clock = clock;
    }

    @Override
    public KeyPair generate() throws DeviceException {
        try {
            return KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        } catch (GeneralSecurityException e) {
            throw new DeviceException(Reason.KEY_UNAVAILABLE, "cannot generate an EC P-256 key: " + e.getMessage(), e);
        }
    }

    @Override
    public KeyReference store(KeyPair keys, List<X509Certificate> chain) throws DeviceException {
        byte[] nonce = new byte[4];
        random.nextBytes(nonce);
        String name = "device-" + STAMP.format(clock.instant()) + "-" + HexFormat.of().formatHex(nonce);
        byte[] pw = new byte[24];
        random.nextBytes(pw);
        char[] password = Base64.getUrlEncoder().withoutPadding().encodeToString(pw).toCharArray();
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry(ALIAS, keys.getPrivate(), password, chain.toArray(new Certificate[0]));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ks.store(out, password);
            SecureFiles.createPrivateDirectory(keysDir);
            SecureFiles.writeAtomically(passwordFile(name), (new String(password) + "\n")
                    .getBytes(StandardCharsets.UTF_8), true);
            SecureFiles.writeAtomically(keyFile(name), out.toByteArray(), true);
        } catch (IOException | GeneralSecurityException e) {
            throw new DeviceException(Reason.STORAGE, "cannot write the device key to " + keysDir + ": "
                    + e.getMessage(), e);
        }
        return new KeyReference(KeyReference.PKCS12, name);
    }

    @Override
    public PrivateKey load(KeyReference reference) throws DeviceException {
        try {
            char[] password = Files.readString(passwordFile(reference.name())).strip().toCharArray();
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(new ByteArrayInputStream(Files.readAllBytes(keyFile(reference.name()))), password);
            Key key = ks.getKey(ALIAS, password);
            if (!(key instanceof PrivateKey pk)) {
                throw new DeviceException(Reason.KEY_UNAVAILABLE, "no device key in " + keyFile(reference.name()));
            }
            return pk;
        } catch (IOException | GeneralSecurityException e) {
            throw new DeviceException(Reason.KEY_UNAVAILABLE, "cannot read the device key "
                    + keyFile(reference.name()) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void delete(KeyReference reference) {
        try {
            Files.deleteIfExists(keyFile(reference.name()));
            Files.deleteIfExists(passwordFile(reference.name()));
        } catch (IOException ignored) {
            // an unreferenced file is harmless; the next renewal tries again
        }
    }

    /** Deletes key files in the folder that {@code keep} does not name (left by an interrupted renewal). */
    public void deleteAllExcept(KeyReference keep) {
        try (var files = Files.list(keysDir)) {
            for (Path p : files.toList()) {
                String f = p.getFileName().toString();
                boolean ours = f.endsWith(".p12") || f.endsWith(".pass");
                if (ours && !f.equals(keep.name() + ".p12") && !f.equals(keep.name() + ".pass")) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException ignored) {
            // best effort
        }
    }

    public Path keyFile(String name) {
        return keysDir.resolve(name + ".p12");
    }

    public Path passwordFile(String name) {
        return keysDir.resolve(name + ".pass");
    }

    @Override
    public Provider signatureProvider() {
        return null;
    }

    @Override
    public String type() {
        return KeyReference.PKCS12;
    }
}
