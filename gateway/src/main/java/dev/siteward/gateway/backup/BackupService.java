package dev.siteward.gateway.backup;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.gateway.time.TimeRecord;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.SecureFiles;
import dev.siteward.pki.ca.SiteCa;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Backup and restore of a data dir. A backup is a consistent snapshot of the database (H2 {@code BACKUP TO}, taken
 * inside the database while the gateway serves) plus every other file of the data dir — CA material (key files stay
 * encrypted under the CA passphrase; PKCS#11 keys stay in their token, only the reference is in {@code ca/}), the
 * gateway's keys, the trusted-time record and whatever the model repository, policy store and audit log keep there
 * — with a manifest of SHA-256 digests, all inside one {@link BackupArchive} encrypted under the backup passphrase.
 *
 * <p>Restore decrypts into a staging directory beside the target, checks every file against the manifest (nothing
 * missing, nothing extra, every digest equal), and only then moves the staging directory into place: a bad backup
 * changes nothing. Then the token epoch advances: every enrollment token not used when the backup was taken is
 * voided and the token-signing key is replaced, so a restore never reopens a token that was used after the backup.
 */
public final class BackupService {

    /** Paths of the data dir never backed up: the running gateway's lock and endpoints, and temp files. */
    private static final Set<String> SKIPPED = Set.of("siteward.lock", "gateway/endpoints.json");
    static final String DB_ARCHIVE = "db/siteward-db.zip";

    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final Path dataDir;
    private final GatewayStore store;
    private final SiteCa ca;
    private final Clock clock;

    public BackupService(Path dataDir, GatewayStore store, SiteCa ca, Clock clock) {
        this.dataDir = dataDir;
        this.store = store;
        this.ca = ca;
        this.clock = clock;
    }

    /** The refusal for a site whose database is PostgreSQL. */
    public static final String POSTGRES_GUIDANCE = "the gateway's database is PostgreSQL, which 'siteward backup' "
            + "cannot snapshot consistently with the data dir; stop the gateway, back up the database with pg_dump "
            + "-Fc and the data dir with 'tar' (see docs/operations.md, \"Backup with PostgreSQL\")";

    /**
     * Refuses a backup of a site whose database is PostgreSQL ({@code request.conflict}): a snapshot taken inside
     * the gateway covers only the embedded H2 database, and a backup without the database would restore devices,
     * tokens and the audit chain out of step with the CA.
     */
    public void requireEmbeddedDatabase() throws dev.siteward.gateway.GatewayException {
        if (store.isPostgres()) {
            throw new dev.siteward.gateway.GatewayException(dev.siteward.gateway.GatewayException.Reason.CONFLICT,
                    POSTGRES_GUIDANCE);
        }
    }

    /** Where the model repository keeps its content-addressed blobs, relative to the data dir. */
    static final String BLOB_DIR = "models/blobs/sha256";

    /**
     * A consistent snapshot of the data dir, taken and copied into a private staging directory, ready to be written
     * as an archive; closing it deletes the copies.
     */
    public static final class Snapshot implements AutoCloseable {
        private final Path staging;
        private final List<BackupManifest.FileEntry> entries;
        private final Map<String, Path> sources;
        private final BackupManifest manifest;

        private Snapshot(Path staging, List<BackupManifest.FileEntry> entries, Map<String, Path> sources,
                         BackupManifest manifest) {
            this.staging = staging;
            this.entries = entries;
            this.sources = sources;
            this.manifest = manifest;
        }

        public BackupManifest manifest() {
            return manifest;
        }

        @Override
        public void close() {
            deleteTree(staging);
        }
    }

    /** Writes an encrypted backup to {@code out}; returns its manifest. Refused with PostgreSQL as the store. */
    public BackupManifest backup(OutputStream out, char[] passphrase) throws IOException, StoreException,
            dev.siteward.gateway.GatewayException {
        try (Snapshot s = snapshot()) {
            write(s, out, passphrase);
            return s.manifest();
        }
    }

    /**
     * Takes the snapshot: the database (H2 {@code BACKUP TO}), then the model blobs that snapshot refers to, then
     * every other file of the data dir, each copied once into a private staging directory.
     *
     * <p>Model blobs are content-addressed and immutable, so the backup holds exactly the blobs named by the
     * snapshot's rows ({@code model_blobs}, {@code model_files}, {@code model_versions} signatures,
     * {@code model_withdrawals} bundles), read from the snapshot itself — not whatever is on disk at copy time: a
     * blob stored after the snapshot (its rows are not in it) is left out, and a blob the snapshot refers to that is
     * missing or no longer matches its digest refuses the backup ({@code request.conflict}) naming the blob, instead
     * of producing a backup whose models cannot be served.
     *
     * @throws dev.siteward.gateway.GatewayException PostgreSQL as the store, or a referenced blob missing or changed
     */
    public Snapshot snapshot() throws IOException, StoreException, dev.siteward.gateway.GatewayException {
        requireEmbeddedDatabase();
        Path staging = Files.createTempDirectory(dataDir, ".siteward-backup-");
        boolean done = false;
        try {
            Files.setPosixFilePermissions(staging, java.nio.file.attribute.PosixFilePermissions.fromString(
                    "rwx------"));
            Path dbZip = staging.resolve("db.zip");
            store.inTransaction(c -> {
                try (PreparedStatement ps = c.prepareStatement("BACKUP TO ?")) {
                    ps.setString(1, dbZip.toString());
                    ps.execute();
                }
                return null;
            });
            List<BackupManifest.FileEntry> entries = new ArrayList<>();
            Map<String, Path> sources = new HashMap<>();
            entries.add(entry(DB_ARCHIVE, dbZip, true));
            sources.put(DB_ARCHIVE, dbZip);
            Path copies = staging.resolve("files");
            for (Map.Entry<String, Long> blob : referencedBlobs(dbZip).entrySet()) {
                String rel = BLOB_DIR + "/" + blob.getKey();
                Path source = dataDir.resolve(rel);
                Path copy = copies.resolve(rel);
                Files.createDirectories(copy.getParent());
                try {
                    Files.copy(source, copy, StandardCopyOption.COPY_ATTRIBUTES);
                } catch (java.nio.file.NoSuchFileException e) {
                    throw new dev.siteward.gateway.GatewayException(
                            dev.siteward.gateway.GatewayException.Reason.CONFLICT, "backup refused: model blob "
                            + blob.getKey() + " that the database refers to is missing from " + BLOB_DIR
                            + " (deleted or lost); the model repository is damaged");
                }
                BackupManifest.FileEntry e = entry(rel, copy, secret(copy)); // the copy keeps the blob's mode
                if (!e.sha256().equals(blob.getKey()) || (blob.getValue() != null && blob.getValue() != e.size())) {
                    throw new dev.siteward.gateway.GatewayException(
                            dev.siteward.gateway.GatewayException.Reason.CONFLICT, "backup refused: model blob "
                            + blob.getKey() + " in " + BLOB_DIR + " no longer matches its digest (changed on disk); "
                            + "the model repository is damaged");
                }
                entries.add(e);
                sources.put(rel, copy);
            }
            // every other file is copied first and the archive made from the copies, so files that change meanwhile
            // (the CA journal during enrollments) are taken once, as a prefix that their readers accept, and the
            // digests match what is archived; the journal is copied after the database snapshot, so it holds every
            // certificate the snapshot knows
            for (Path f : files(dataDir)) {
                String rel = relative(dataDir, f);
                if (rel.startsWith(BLOB_DIR + "/")) {
                    continue; // only the blobs the snapshot refers to, above
                }
                Path copy = copies.resolve(rel);
                Files.createDirectories(copy.getParent());
                Files.copy(f, copy, StandardCopyOption.COPY_ATTRIBUTES);
                entries.add(entry(rel, copy, secret(f)));
                sources.put(rel, copy);
            }
            TimeRecord time = TimeRecord.read(dataDir);
            BackupManifest manifest = new BackupManifest(BackupManifest.FORMAT, clock.instant(), ca.trustDomain(),
                    Certificates.fingerprint(ca.root()), time == null ? null : time.latest(), ca.registry().size(),
                    entries);
            done = true;
            return new Snapshot(staging, entries, sources, manifest);
        } finally {
            if (!done) {
                deleteTree(staging);
            }
        }
    }

    /**
     * The model blobs a database snapshot refers to, digest to size (null when only the digest is recorded), read
     * from the snapshot's zip itself (read-only), so the set matches the snapshot's rows exactly.
     */
    static Map<String, Long> referencedBlobs(Path dbZip) throws IOException {
        Map<String, Long> out = new java.util.TreeMap<>();
        String url = "jdbc:h2:zip:" + dbZip.toAbsolutePath() + "!/siteward;ACCESS_MODE_DATA=r";
        try (java.sql.Connection c = new org.h2.Driver().connect(url, credentials());
             Statement st = c.createStatement()) {
            for (String q : List.of("SELECT sha256, size FROM model_blobs", "SELECT sha256, size FROM model_files",
                    "SELECT signature_sha256, signature_size FROM model_versions",
                    "SELECT bundle_sha256, NULL FROM model_withdrawals")) {
                try (java.sql.ResultSet rs = st.executeQuery(q)) {
                    while (rs.next()) {
                        String sha = rs.getString(1).strip();
                        if (!sha.matches("[0-9a-f]{64}")) {
                            throw new IOException("the database snapshot names a blob '" + sha + "' that is not a "
                                    + "SHA-256 digest");
                        }
                        long size = rs.getLong(2);
                        Long known = rs.wasNull() ? null : size;
                        out.merge(sha, known == null ? -1L : known, (a, b) -> a >= 0 ? a : b);
                    }
                }
            }
        } catch (java.sql.SQLException e) {
            throw new IOException("cannot read the model rows of the database snapshot: " + e.getMessage(), e);
        }
        out.replaceAll((k, v) -> v < 0 ? null : v);
        return out;
    }

    private static java.util.Properties credentials() {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", "siteward");
        p.setProperty("password", "");
        return p;
    }

    /** Writes a snapshot as one encrypted archive: the manifest, then every file from its copy. */
    public static void write(Snapshot s, OutputStream out, char[] passphrase) throws IOException {
        try (DataOutputStream data = new DataOutputStream(new BufferedOutputStream(
                BackupArchive.encrypting(out, passphrase), 1 << 16))) {
            byte[] m = JSON.writeValueAsBytes(s.manifest);
            data.writeUTF("manifest.json");
            data.writeLong(m.length);
            data.write(m);
            for (BackupManifest.FileEntry e : s.entries) {
                data.writeUTF(e.path());
                data.writeLong(e.size());
                try (InputStream in = Files.newInputStream(s.sources.get(e.path()))) {
                    long copied = in.transferTo(data);
                    if (copied != e.size()) {
                        throw new IOException(e.path() + " changed while it was archived");
                    }
                }
            }
            data.writeUTF("");
        }
    }

    /**
     * Reads a whole backup and checks it against its manifest without writing anything: the passphrase opens it,
     * nothing was changed, cut or added, and every file's digest matches. Returns the manifest.
     */
    public static BackupManifest verify(InputStream backup, char[] passphrase) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(
                BackupArchive.decrypting(backup, passphrase), 1 << 16))) {
            if (!"manifest.json".equals(in.readUTF())) {
                throw new BackupArchive.IntegrityException("the backup has no manifest");
            }
            BackupManifest manifest = JSON.readValue(readBytes(in, in.readLong(), 16 << 20), BackupManifest.class);
            Map<String, BackupManifest.FileEntry> expected = new HashMap<>();
            for (BackupManifest.FileEntry e : manifest.files()) {
                expected.put(e.path(), e);
            }
            String path;
            byte[] buf = new byte[1 << 16];
            while (!(path = in.readUTF()).isEmpty()) {
                BackupManifest.FileEntry e = expected.remove(path);
                long left = in.readLong();
                if (e == null || e.size() != left) {
                    throw new BackupArchive.IntegrityException("the backup holds " + path
                            + " that its manifest does not list (or with another size)");
                }
                MessageDigest md = sha256();
                while (left > 0) {
                    int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                    if (n < 0) {
                        throw new EOFException();
                    }
                    md.update(buf, 0, n);
                    left -= n;
                }
                if (!HexFormat.of().formatHex(md.digest()).equals(e.sha256())) {
                    throw new BackupArchive.IntegrityException("digest mismatch for " + path);
                }
            }
            if (!expected.isEmpty()) {
                throw new BackupArchive.IntegrityException("the backup lacks " + expected.keySet().iterator().next());
            }
            if (in.read() != -1) {
                throw new BackupArchive.IntegrityException("the backup has data after its end");
            }
            return manifest;
        } catch (EOFException e) {
            throw new BackupArchive.IntegrityException("the backup is cut short");
        }
    }

    /** What a restore did, for the operator. */
    public record RestoreReport(BackupManifest manifest, int files, int tokensVoided, String olderThanTarget) {
    }

    /**
     * Restores a backup into {@code target}, which must not exist or be empty unless {@code force} (then the old data
     * dir is kept beside it as {@code <target>.replaced-<time>}). A backup older than the data dir it would replace
     * (its recorded time or certificate count is behind) is refused unless {@code force}.
     *
     * @throws BackupArchive.IntegrityException wrong passphrase, changed or truncated backup, digest mismatch
     * @throws IllegalArgumentException         the target is not empty, or newer than the backup, without force
     */
    public static RestoreReport restore(InputStream backup, char[] passphrase, Path target, boolean force,
                                        Clock clock) throws IOException, StoreException {
        Path abs = target.toAbsolutePath().normalize();
        boolean occupied = Files.isDirectory(abs) && !isEmpty(abs);
        if (occupied && !force) {
            throw new IllegalArgumentException(abs + " is not empty: restore into a new data dir, or pass --force to "
                    + "replace it (the old one is kept beside it)");
        }
        Path parent = abs.getParent();
        Files.createDirectories(parent);
        Path staging = parent.resolve("." + abs.getFileName() + ".restore-" + UUID.randomUUID());
        SecureFiles.createPrivateDirectory(staging);
        boolean moved = false;
        try {
            BackupManifest manifest;
            int count = 0;
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(
                    BackupArchive.decrypting(backup, passphrase), 1 << 16))) {
                if (!"manifest.json".equals(in.readUTF())) {
                    throw new BackupArchive.IntegrityException("the backup has no manifest");
                }
                manifest = JSON.readValue(readBytes(in, in.readLong(), 16 << 20), BackupManifest.class);
                if (!BackupManifest.FORMAT.equals(manifest.format())) {
                    throw new BackupArchive.IntegrityException("unknown backup format " + manifest.format());
                }
                Map<String, BackupManifest.FileEntry> expected = new HashMap<>();
                for (BackupManifest.FileEntry e : manifest.files()) {
                    expected.put(e.path(), e);
                }
                String path;
                while (!(path = in.readUTF()).isEmpty()) {
                    BackupManifest.FileEntry e = expected.remove(path);
                    long size = in.readLong();
                    if (e == null || e.size() != size) {
                        throw new BackupArchive.IntegrityException("the backup holds " + path
                                + " that its manifest does not list (or with another size)");
                    }
                    Path dest = safeResolve(staging, path);
                    SecureFiles.createPrivateDirectory(dest.getParent());
                    String digest = copy(in, dest, size);
                    if (!digest.equals(e.sha256())) {
                        throw new BackupArchive.IntegrityException("digest mismatch for " + path);
                    }
                    Files.setPosixFilePermissions(dest, e.secret() ? Set.of(PosixFilePermission.OWNER_READ,
                            PosixFilePermission.OWNER_WRITE) : java.nio.file.attribute.PosixFilePermissions
                            .fromString("rw-r--r--"));
                    count++;
                }
                if (!expected.isEmpty()) {
                    throw new BackupArchive.IntegrityException("the backup lacks " + expected.keySet().iterator()
                            .next() + " that its manifest lists");
                }
                if (in.read() != -1) {
                    throw new BackupArchive.IntegrityException("the backup has data after its end");
                }
            } catch (EOFException e) {
                throw new BackupArchive.IntegrityException("the backup is cut short");
            }
            String older = occupied ? olderThan(manifest, abs) : null;
            if (older != null && !force) {
                throw new IllegalArgumentException(older);
            }
            unpackDatabase(staging);
            int voided = advanceTokenEpoch(staging, clock);
            SecureFiles.writeAtomically(staging.resolve("gateway/restored.json"), JSON.writeValueAsString(Map.of(
                    "backupCreatedAt", manifest.createdAt().toString(), "restoredAt", clock.instant().toString(),
                    "tokensVoided", voided)) + "\n", false);
            if (occupied) {
                Files.move(abs, parent.resolve(abs.getFileName() + ".replaced-" + clock.instant().getEpochSecond()),
                        StandardCopyOption.ATOMIC_MOVE);
            } else if (Files.isDirectory(abs)) {
                Files.delete(abs);
            }
            Files.move(staging, abs, StandardCopyOption.ATOMIC_MOVE);
            SecureFiles.fsyncDirectory(parent);
            moved = true;
            return new RestoreReport(manifest, count, voided, older);
        } finally {
            if (!moved) {
                deleteTree(staging);
            }
        }
    }

    /** Unzips the database snapshot into {@code db/} and removes the zip. */
    private static void unpackDatabase(Path root) throws IOException {
        Path zip = root.resolve(DB_ARCHIVE);
        Path db = SecureFiles.createPrivateDirectory(root.resolve(GatewayStore.DB_DIR));
        try (java.util.zip.ZipInputStream z = new java.util.zip.ZipInputStream(Files.newInputStream(zip))) {
            java.util.zip.ZipEntry e;
            while ((e = z.getNextEntry()) != null) {
                if (e.isDirectory()) {
                    continue;
                }
                Path dest = safeResolve(db, Path.of(e.getName()).getFileName().toString());
                Files.copy(z, dest, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.delete(zip);
    }

    /**
     * The token epoch: voids every enrollment token that was unused when the backup was taken (it may have been used
     * since) and removes the token-signing key (the gateway makes a new one), so no token from before the restore
     * works after it.
     */
    private static int advanceTokenEpoch(Path root, Clock clock) throws StoreException, IOException {
        int voided;
        GatewayStore store = GatewayStore.openEmbedded(root);
        try {
            voided = store.inTransaction(c -> {
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE enrollment_tokens SET consumed_at = ? WHERE consumed_at IS NULL")) {
                    ps.setTimestamp(1, Timestamp.from(clock.instant()));
                    return ps.executeUpdate();
                }
            });
            store.inTransaction(c -> {
                try (Statement s = c.createStatement()) {
                    s.execute("CHECKPOINT SYNC");
                }
                return null;
            });
        } finally {
            store.close();
        }
        Files.deleteIfExists(root.resolve("gateway/token-key.pem"));
        return voided;
    }

    /** Why this backup is older than the data dir it would replace, or null when it is not. */
    private static String olderThan(BackupManifest manifest, Path existing) {
        try {
            TimeRecord time = TimeRecord.read(existing);
            if (time != null && manifest.latestRecordedTime() != null
                    && time.latest().isAfter(manifest.latestRecordedTime())) {
                return "this backup (taken " + manifest.createdAt() + ") is older than the data dir it would replace "
                        + "(which recorded " + time.latest() + "): enrollments, revocations and tokens since are not "
                        + "in it; pass --force to restore it anyway";
            }
        } catch (IOException ignored) {
            // an unreadable record: compare the CA registry below
        }
        return null;
    }

    private static List<Path> files(Path root) throws IOException {
        List<Path> out = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                String rel = relative(root, dir);
                return rel.equals(GatewayStore.DB_DIR) || dir.getFileName().toString().startsWith(".siteward-backup-")
                        ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String rel = relative(root, file);
                String name = file.getFileName().toString();
                boolean temp = name.startsWith(".") && name.endsWith(".tmp");
                if (attrs.isRegularFile() && !SKIPPED.contains(rel) && !temp) {
                    out.add(file);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        out.sort(null);
        return out;
    }

    private static String relative(Path root, Path p) {
        return root.relativize(p).toString().replace('\\', '/');
    }

    private static boolean secret(Path f) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(f);
        return !perms.contains(PosixFilePermission.OTHERS_READ) && !perms.contains(PosixFilePermission.GROUP_READ);
    }

    private static BackupManifest.FileEntry entry(String rel, Path f, boolean secret) throws IOException {
        MessageDigest md = sha256();
        long size;
        try (InputStream in = new DigestInputStream(Files.newInputStream(f), md)) {
            size = in.transferTo(OutputStream.nullOutputStream());
        }
        return new BackupManifest.FileEntry(rel, size, HexFormat.of().formatHex(md.digest()), secret);
    }

    private static String copy(InputStream in, Path dest, long size) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 16];
        try (OutputStream out = Files.newOutputStream(dest)) {
            long left = size;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    throw new EOFException();
                }
                md.update(buf, 0, n);
                out.write(buf, 0, n);
                left -= n;
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static byte[] readBytes(InputStream in, long size, long max) throws IOException {
        if (size < 0 || size > max) {
            throw new BackupArchive.IntegrityException("the backup's manifest is too large");
        }
        return in.readNBytes((int) size);
    }

    /** Resolves a path from the backup inside root, refusing absolute paths and {@code ..}. */
    private static Path safeResolve(Path root, String rel) throws IOException {
        Path p = root.resolve(rel).normalize();
        if (Path.of(rel).isAbsolute() || !p.startsWith(root)) {
            throw new BackupArchive.IntegrityException("the backup names a path outside the data dir: " + rel);
        }
        return p;
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException ignored) {
                    // best effort cleanup of a staging dir
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }

}
