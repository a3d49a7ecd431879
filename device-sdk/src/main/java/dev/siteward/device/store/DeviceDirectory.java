package dev.siteward.device.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceException.Reason;
import dev.siteward.device.keys.KeyReference;
import dev.siteward.device.trust.RootFingerprint;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.SecureFiles;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.cert.CertificateException;
import java.time.Instant;
import java.util.List;

/**
 * The device directory (default {@code ./siteward-device}, mode 0700). Its state is one file, {@code device.json}
 * (mode 0600), replaced atomically on every change: written to a temporary file beside it, fsynced, renamed over
 * it, directory fsynced. A reader sees the old state or the new, never a mix; a crash mid-write leaves the old one.
 * Key files live in {@code keys/} and are written before the state that names them, so the committed state always
 * points at a complete key.
 */
public final class DeviceDirectory {

    /** The default directory, relative to the working directory. */
    public static final Path DEFAULT = Path.of("siteward-device-data");
    static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** How the state file is written; replaced in tests to simulate a crash mid-write. */
    @FunctionalInterface
    interface StateWriter {
        void write(Path target, byte[] content) throws IOException;
    }

    private final Path dir;
    private final StateWriter writer;

    public DeviceDirectory(Path dir) {
        this(dir, (target, content) -> SecureFiles.writeAtomically(target, content, true));
    }

    DeviceDirectory(Path dir, StateWriter writer) {
        this.dir = dir.toAbsolutePath().normalize();
        this.writer = writer;
    }

    public Path path() {
        return dir;
    }

    public Path stateFile() {
        return dir.resolve("device.json");
    }

    public Path keysDir() {
        return dir.resolve("keys");
    }

    /** True when an identity has been committed here. */
    public boolean enrolled() {
        return Files.isRegularFile(stateFile());
    }

    /** Creates the directory (0700) when missing. */
    public void create() throws DeviceException {
        requireDirectoryOrAbsent();
        try {
            SecureFiles.createPrivateDirectory(dir);
        } catch (IOException e) {
            throw new DeviceException(Reason.STORAGE, "cannot create the device directory " + dir + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Takes the directory's lock for a change (enroll, renew), so two processes never renew at once. The lock goes
     * with the process if it dies.
     */
    public AutoCloseable lock() throws DeviceException {
        create();
        try {
            FileChannel ch = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                ch.close();
                throw new DeviceException(Reason.STORAGE, "another process is changing the device identity in "
                        + dir + "; try again when it is done");
            }
            FileLock held = lock;
            return () -> {
                held.release();
                ch.close();
            };
        } catch (IOException e) {
            throw new DeviceException(Reason.STORAGE, "cannot lock " + dir + ": " + e.getMessage(), e);
        }
    }

    private void requireDirectoryOrAbsent() throws DeviceException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new DeviceException(Reason.BAD_INPUT, dir + " is a file, not a device directory (at the repository "
                    + "root ./siteward-device is the launcher): pass --dir DIR");
        }
    }

    /** Reads the committed state. */
    public DeviceState load() throws DeviceException {
        requireDirectoryOrAbsent();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(stateFile());
        } catch (NoSuchFileException e) {
            throw new DeviceException(Reason.NOT_ENROLLED, "no device identity in " + dir
                    + " (run siteward-device enroll first, or pass --dir)");
        } catch (IOException e) {
            throw new DeviceException(Reason.STORAGE, "cannot read " + stateFile() + ": " + e.getMessage(), e);
        }
        try {
            JsonNode n = JSON.readTree(bytes);
            if (n.path("format").asInt() != FORMAT) {
                throw new DeviceException(Reason.STORAGE, stateFile() + " has an unknown format "
                        + n.path("format").asText());
            }
            JsonNode key = n.path("key");
            String p11 = text(n.path("key"), "pkcs11Config");
            DeviceState s = new DeviceState(req(n, "deviceId"), req(n, "spiffeId"), req(n, "trustDomain"),
                    PemCodec.parseCertificates(req(n, "chain")), PemCodec.parseCertificates(req(n, "root")).get(0),
                    URI.create(req(n, "enrollUrl")), URI.create(req(n, "deviceUrl")),
                    new KeyReference(req(key, "type"), req(key, "name")), p11 == null ? null : Path.of(p11),
                    Instant.parse(req(n, "enrolledAt")),
                    text(n, "renewedAt") == null ? null : Instant.parse(text(n, "renewedAt")),
                    text(n, "formerRoots") == null ? List.of() : PemCodec.parseCertificates(text(n, "formerRoots")));
            if (!RootFingerprint.parse(req(n, "rootFingerprint")).matches(s.root())) {
                throw new DeviceException(Reason.STORAGE, stateFile() + ": the root does not match its fingerprint");
            }
            return s;
        } catch (IOException | CertificateException | RuntimeException e) {
            throw new DeviceException(Reason.STORAGE, stateFile() + " is unreadable: " + e.getMessage(), e);
        }
    }

    /** Replaces the committed state atomically. On failure the previous state stays as it was. */
    public void commit(DeviceState state) throws DeviceException {
        create();
        ObjectNode n = JSON.createObjectNode();
        n.put("format", FORMAT);
        n.put("deviceId", state.deviceId());
        n.put("spiffeId", state.spiffeId());
        n.put("trustDomain", state.trustDomain());
        n.put("enrollUrl", state.enrollUrl().toString());
        n.put("deviceUrl", state.deviceUrl().toString());
        n.put("rootFingerprint", RootFingerprint.of(state.root()).toString());
        ObjectNode key = n.putObject("key");
        key.put("type", state.key().type());
        key.put("name", state.key().name());
        if (state.pkcs11Config() != null) {
            key.put("pkcs11Config", state.pkcs11Config().toString());
        }
        n.put("enrolledAt", state.enrolledAt().toString());
        if (state.renewedAt() != null) {
            n.put("renewedAt", state.renewedAt().toString());
        }
        n.put("chain", PemCodec.certificates(state.chain()));
        n.put("root", PemCodec.certificates(List.of(state.root())));
        if (!state.formerRoots().isEmpty()) {
            // roots pinned before a root rollover, kept until they expire (absent before any rollover)
            n.put("formerRoots", PemCodec.certificates(state.formerRoots()));
        }
        try {
            writer.write(stateFile(), JSON.writeValueAsBytes(n));
        } catch (IOException e) {
            throw new DeviceException(Reason.STORAGE, "cannot write " + stateFile() + ": " + e.getMessage(), e);
        }
    }

    private String req(JsonNode n, String field) {
        String v = text(n, field);
        if (v == null) {
            throw new IllegalArgumentException("missing field " + field);
        }
        return v;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
