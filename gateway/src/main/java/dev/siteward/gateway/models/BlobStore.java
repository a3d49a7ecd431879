package dev.siteward.gateway.models;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Content-addressed storage for model files and signature bundles: {@code <data-dir>/models/blobs/sha256/<hex>}.
 * A blob is written to a temporary file in the same file system, fsynced, renamed to its digest, and the directory
 * fsynced; a blob that already exists is kept (same digest, same bytes). Staging folders for uploads live in
 * {@code <data-dir>/models/staging/}.
 */
public final class BlobStore {

    static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final int BUFFER = 1 << 20;

    private final Path blobs;
    private final Path staging;
    private final SecureRandom random = new SecureRandom();

    public BlobStore(Path dataDir) throws IOException {
        Path models = dataDir.resolve("models");
        this.blobs = Files.createDirectories(models.resolve("blobs").resolve("sha256"));
        this.staging = Files.createDirectories(models.resolve("staging"));
    }

    /** Whether {@code hex} is a lower-case SHA-256 digest. */
    public static boolean isDigest(String hex) {
        return hex != null && SHA256.matcher(hex).matches();
    }

    /** The path of the blob with this digest (which may not exist). */
    public Path path(String sha256) {
        if (!isDigest(sha256)) {
            throw new IllegalArgumentException("not a SHA-256 digest: " + sha256);
        }
        return blobs.resolve(sha256);
    }

    public boolean exists(String sha256) {
        return Files.isRegularFile(path(sha256));
    }

    /** A new, empty, private staging folder. */
    public Path newStagingFolder() throws IOException {
        byte[] id = new byte[16];
        random.nextBytes(id);
        return Files.createDirectory(staging.resolve(HexFormat.of().formatHex(id)));
    }

    /** The staging folder of an upload id, if it exists and the id is well formed. */
    public Path stagingFolder(String id) {
        if (id == null || !id.matches("[0-9a-f]{32}")) {
            return null;
        }
        Path p = staging.resolve(id);
        return Files.isDirectory(p) ? p : null;
    }

    public Path stagingRoot() {
        return staging;
    }

    /**
     * Copies {@code in} to {@code target} (created new), fsyncs it, and returns its SHA-256; at most {@code limit}
     * bytes are accepted.
     */
    static String write(InputStream in, Path target, long limit) throws IOException, ModelException {
        MessageDigest sha = sha256();
        byte[] buf = new byte[BUFFER];
        long total = 0;
        try (FileChannel ch = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             OutputStream out = Channels.newOutputStream(ch)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                total += n;
                if (total > limit) {
                    throw new ModelException(ModelException.Kind.TOO_LARGE, "request.too_large",
                            "file larger than the upload limit of " + limit + " bytes");
                }
                sha.update(buf, 0, n);
                out.write(buf, 0, n);
            }
            ch.force(true);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /**
     * Moves a verified file into the store under its digest: fsync, atomic rename, directory fsync. When the blob
     * already exists the file is deleted instead.
     */
    public void commit(Path file, String sha256) throws IOException {
        Path target = path(sha256);
        if (Files.exists(target)) {
            Files.delete(file);
            return;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        try {
            Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            Files.delete(file);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("staging and blobs must be on one file system", e);
        }
        syncDirectory(blobs);
    }

    /** Stores {@code bytes} (a signature bundle) under its digest; returns the digest. */
    public String put(byte[] bytes) throws IOException {
        String hex = HexFormat.of().formatHex(sha256().digest(bytes));
        if (exists(hex)) {
            return hex;
        }
        Path temp = staging.resolve("blob-" + hex + "-" + Long.toHexString(random.nextLong()));
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(bytes));
            ch.force(true);
        }
        commit(temp, hex);
        return hex;
    }

    /** Deletes a staging folder and everything in it (never follows links). */
    public static void deleteTree(Path root) {
        if (root == null || !Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: a leftover staging file is removed at the next start
                }
            });
        } catch (IOException ignored) {
            // as above
        }
    }

    /** Removes every staging folder (at start-up: no upload survives a restart). */
    public void clearStaging() throws IOException {
        try (var list = Files.list(staging)) {
            list.forEach(BlobStore::deleteTree);
        }
    }

    static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // some file systems cannot fsync a directory; the rename itself is atomic
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
