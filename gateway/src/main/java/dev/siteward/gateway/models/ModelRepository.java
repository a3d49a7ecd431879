package dev.siteward.gateway.models;

import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.gateway.trust.PublisherTrust;
import dev.siteward.gateway.trust.PublisherTrustException;
import dev.siteward.pki.modelsig.FileDifference;
import dev.siteward.pki.modelsig.ModelLocation;
import dev.siteward.pki.modelsig.ModelNames;
import dev.siteward.pki.modelsig.ModelVerifier;
import dev.siteward.pki.modelsig.VerificationFailure;
import dev.siteward.pki.modelsig.VerificationResult;
import dev.siteward.pki.modelsig.Withdrawal;
import dev.siteward.pki.modelsig.WithdrawalResult;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * The gateway's model release repository: publishes verified models (content-addressed blobs plus database rows),
 * releases versions to channels, stores publisher withdrawals, lists what it holds, and loads a version back as
 * verified bytes for the gateway's own inference.
 *
 * <p>Publishing checks, in this order and before anything is stored: the name and version (greater than every
 * published version of that name, not withdrawn), the publisher trust for that name
 * ({@link PublisherTrust#rootsForModel}), the signature over exactly the staged files (every digest re-computed),
 * {@code siteward-model.yaml} when present, and that every {@code .onnx} file is self-contained. Only then are the
 * files renamed into the blob store and the rows written in one transaction.
 */
public final class ModelRepository {

    static final Pattern LABEL = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    /** The default channel of a device without a {@code channel} label. */
    public static final String DEFAULT_CHANNEL = "stable";
    static final String FILES = "files";

    private final GatewayStore store;
    private final BlobStore blobs;
    private final Path dataDir;
    private final Clock clock;
    private final long maxUploadBytes;

    public ModelRepository(GatewayStore store, BlobStore blobs, Path dataDir, Clock clock, long maxUploadBytes) {
        this.store = store;
        this.blobs = blobs;
        this.dataDir = dataDir;
        this.clock = clock;
        this.maxUploadBytes = maxUploadBytes;
    }

    public BlobStore blobs() {
        return blobs;
    }

    public GatewayStore store() {
        return store;
    }

    /** The publishers file as it is now (read at each use, so a change applies without a restart). */
    public PublisherTrust trust() throws ModelException {
        try {
            return PublisherTrust.load(dataDir);
        } catch (PublisherTrustException e) {
            throw new ModelException(ModelException.Kind.INTERNAL, "model.trust_unreadable", e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- staging

    /** Starts an upload: a new staging folder; returns its id. */
    public String newUpload() throws IOException {
        Path dir = blobs.newStagingFolder();
        Files.createDirectory(dir.resolve(FILES));
        return dir.getFileName().toString();
    }

    /** Streams one file of an upload to its staging folder, hashing as it writes; returns size and SHA-256. */
    public Map<String, Object> stageFile(String uploadId, String path, InputStream body)
            throws IOException, ModelException {
        Path dir = blobs.stagingFolder(uploadId);
        if (dir == null) {
            throw new ModelException(ModelException.Kind.NOT_FOUND, "model.upload_not_found",
                    "no upload " + uploadId + " (uploads do not survive a restart)");
        }
        if (!ModelFiles.safeRelative(path)) {
            throw ModelException.refused("modelsig.path_refused", "file path '" + path
                    + "' is not a relative path inside the model");
        }
        Path target = dir.resolve(FILES).resolve(path).normalize();
        if (!target.startsWith(dir.resolve(FILES))) {
            throw ModelException.refused("modelsig.path_refused", "file path '" + path + "' escapes the model");
        }
        Files.createDirectories(target.getParent());
        if (Files.exists(target)) {
            throw new ModelException(ModelException.Kind.CONFLICT, "model.upload_duplicate", "file '" + path
                    + "' was already uploaded");
        }
        String sha = BlobStore.write(body, target, maxUploadBytes);
        return Map.of("path", path, "size", Files.size(target), "sha256", sha);
    }

    /** Deletes an upload's staging folder. */
    public void discardUpload(String uploadId) {
        BlobStore.deleteTree(blobs.stagingFolder(uploadId));
    }

    /**
     * Publishes a model folder or file from the local file system (the CLI with the gateway stopped): copies the
     * model's files into a staging folder, then publishes them as an upload.
     */
    public Published publishLocal(Path model, Path signatureFile, String name, long version, byte[] signature)
            throws IOException, ModelException, StoreException {
        boolean singleFile = Files.isRegularFile(model, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        if (!singleFile && !Files.isDirectory(model, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            if (Files.isSymbolicLink(model)) {
                throw ModelException.refused("modelsig.path_refused", model + " is a symbolic link");
            }
            throw new NoSuchFileException(model.toString());
        }
        precheck(name, version);
        String upload = newUpload();
        try {
            List<String> files = singleFile ? List.of(model.getFileName().toString())
                    : ModelFiles.list(model, signatureFile);
            for (String f : files) {
                try (InputStream in = Files.newInputStream(singleFile ? model : model.resolve(f))) {
                    stageFile(upload, f, in);
                }
            }
            return publish(upload, singleFile, name, version, signature);
        } finally {
            discardUpload(upload);
        }
    }

    /** What was published. */
    public record Published(String name, long version, String publisher, int files, long bytes,
                            String signatureSha256) {
    }

    /**
     * Publishes the staged upload as {@code name} version {@code version}: every check first, then store. The staging
     * folder is removed whatever the outcome.
     */
    public Published publish(String uploadId, boolean singleFile, String name, long version, byte[] signature)
            throws IOException, ModelException, StoreException {
        Path dir = blobs.stagingFolder(uploadId);
        if (dir == null) {
            throw new ModelException(ModelException.Kind.NOT_FOUND, "model.upload_not_found", "no upload "
                    + uploadId);
        }
        try {
            return publishStaged(dir.resolve(FILES), singleFile, name, version, signature);
        } finally {
            BlobStore.deleteTree(dir);
        }
    }

    private void precheck(String name, long version) throws ModelException, StoreException {
        if (name == null || !ModelNames.isValid(name)) {
            throw ModelException.badInput("model name '" + name + "' must be team/name, each part "
                    + "[a-z0-9][a-z0-9._-]*");
        }
        if (version < 0) {
            throw ModelException.badInput("version must be a non-negative integer");
        }
        Long last = store.inTransaction(c -> lastVersion(c, name));
        if (last != null && version <= last) {
            throw new ModelException(ModelException.Kind.CONFLICT, "model.version_not_newer", name + " version "
                    + version + " is not greater than the last published version " + last);
        }
        if (withdrawals(name).stream().anyMatch(w -> w.withdraws(version))) {
            throw ModelException.refused("model.withdrawn", name + " version " + version
                    + " is withdrawn by its publisher");
        }
    }

    private Published publishStaged(Path files, boolean singleFile, String name, long version, byte[] signature)
            throws IOException, ModelException, StoreException {
        precheck(name, version);
        if (signature == null || signature.length == 0) {
            throw ModelException.badInput("a signature is required (siteward model sign)");
        }
        List<Path> staged;
        try (var s = Files.list(files)) {
            staged = s.toList();
        }
        Path modelRoot;
        if (singleFile) {
            if (staged.size() != 1 || !Files.isRegularFile(staged.get(0))) {
                throw ModelException.badInput("a single-file model is exactly one uploaded file at the top level");
            }
            modelRoot = staged.get(0);
        } else {
            modelRoot = files;
        }
        PublisherTrust trust = trust();
        List<X509Certificate> roots = trust.rootsForModel(name);
        if (roots.isEmpty()) {
            throw ModelException.refused("model.untrusted_publisher", "no trusted publisher may sign " + name
                    + " (siteward publisher add ... --models)");
        }
        VerificationResult result = ModelVerifier.trustingRoots(roots).withClock(clock)
                .verify(ModelLocation.of(modelRoot), signature);
        if (!result.verified()) {
            throw refusal(result.failure().orElseThrow(), name);
        }
        String publisher = publisherOf(trust, name, result.signerChain());
        Map<String, String> digests = result.fileDigests();
        // the optional spec, then every ONNX file: self-contained, and matching the spec
        Path specFile = singleFile ? null : modelRoot.resolve(ModelSpec.FILE_NAME);
        Map<String, OnnxCheck.Result> graphs = new LinkedHashMap<>();
        for (String f : digests.keySet()) {
            Path p = singleFile ? modelRoot : modelRoot.resolve(f);
            String shown = singleFile ? modelRoot.getFileName().toString() : f;
            if (shown.toLowerCase(Locale.ROOT).endsWith(".onnx")) {
                graphs.put(f, OnnxCheck.check(p, shown));
            }
        }
        if (specFile != null && digests.containsKey(ModelSpec.FILE_NAME)) {
            ModelSpec spec = ModelSpec.parse(Files.readAllBytes(specFile));
            if (!digests.containsKey(spec.entry())) {
                throw ModelException.refused("model.spec_invalid", ModelSpec.FILE_NAME + ": entry '" + spec.entry()
                        + "' is not a file of the model");
            }
            spec.checkAgainst(graphs.get(spec.entry()));
        }
        // all checks passed: store the blobs, then the rows in one transaction
        List<Object[]> rows = new ArrayList<>();
        long total = 0;
        for (Map.Entry<String, String> e : digests.entrySet()) {
            Path p = singleFile ? modelRoot : modelRoot.resolve(e.getKey());
            long size = Files.size(p);
            total += size;
            rows.add(new Object[] {e.getKey(), size, e.getValue()});
        }
        for (Map.Entry<String, String> e : digests.entrySet()) {
            blobs.commit(singleFile ? modelRoot : modelRoot.resolve(e.getKey()), e.getValue());
        }
        String sigSha = blobs.put(signature);
        Instant now = clock.instant();
        String signer = result.signerChain().isEmpty() ? "" : result.signerChain().get(0)
                .getSubjectX500Principal().getName();
        long totalBytes = total;
        store.inTransaction(c -> {
            Long last = lastVersion(c, name);
            if (last != null && version <= last) {
                throw new ModelException(ModelException.Kind.CONFLICT, "model.version_not_newer", name + " version "
                        + version + " is not greater than the last published version " + last);
            }
            if (last == null && !exists(c, "SELECT 1 FROM models WHERE name = ?", name)) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO models (name, created_at) VALUES (?, ?)")) {
                    ps.setString(1, name);
                    ps.setTimestamp(2, Timestamp.from(now));
                    ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO model_versions (model_name, version, "
                    + "signature_sha256, signature_size, single_file, signed_name, root_digest, publisher, signer, "
                    + "published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, name);
                ps.setLong(2, version);
                ps.setString(3, sigSha);
                ps.setLong(4, signature.length);
                ps.setBoolean(5, singleFile);
                ps.setString(6, truncate(result.modelName(), 1024));
                ps.setString(7, result.rootDigest());
                ps.setString(8, publisher);
                ps.setString(9, truncate(signer, 1024));
                ps.setTimestamp(10, Timestamp.from(now));
                ps.executeUpdate();
            }
            int position = 0;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO model_files (model_name, version, position, "
                    + "path, size, sha256) VALUES (?, ?, ?, ?, ?, ?)")) {
                for (Object[] r : rows) {
                    ps.setString(1, name);
                    ps.setLong(2, version);
                    ps.setInt(3, position++);
                    ps.setString(4, (String) r[0]);
                    ps.setLong(5, (Long) r[1]);
                    ps.setString(6, (String) r[2]);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            recordBlob(c, sigSha, signature.length, now);
            for (Object[] r : rows) {
                recordBlob(c, (String) r[2], (Long) r[1], now);
            }
            return null;
        });
        return new Published(name, version, publisher, rows.size(), totalBytes, sigSha);
    }

    private static void recordBlob(Connection c, String sha, long size, Instant now) throws SQLException {
        if (!exists(c, "SELECT 1 FROM model_blobs WHERE sha256 = ?", sha)) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO model_blobs (sha256, size, stored_at) "
                    + "VALUES (?, ?, ?)")) {
                ps.setString(1, sha);
                ps.setLong(2, size);
                ps.setTimestamp(3, Timestamp.from(now));
                ps.executeUpdate();
            }
        }
    }

    static ModelException refusal(VerificationFailure f, String name) {
        StringBuilder m = new StringBuilder(name).append(": ").append(f.message());
        List<FileDifference> d = f.differences();
        for (int i = 0; i < Math.min(d.size(), 5); i++) {
            m.append(i == 0 ? " (" : ", ").append(d.get(i).kind().name().toLowerCase(Locale.ROOT)).append(' ')
                    .append(d.get(i).name());
        }
        if (!d.isEmpty()) {
            m.append(d.size() > 5 ? ", ...)" : ")");
        }
        return ModelException.refused(f.reason().code(), m.toString());
    }

    /** The trusted publisher whose roots anchor {@code chain} and who may sign {@code name}. */
    static String publisherOf(PublisherTrust trust, String name, List<X509Certificate> chain) {
        if (chain.isEmpty()) {
            return "";
        }
        X509Certificate last = chain.get(chain.size() - 1);
        for (PublisherTrust.Publisher p : trust.publishersForModel(name)) {
            for (X509Certificate root : p.roots()) {
                if (last.equals(root)) {
                    return p.name();
                }
                if (last.getIssuerX500Principal().equals(root.getSubjectX500Principal())) {
                    try {
                        last.verify(root.getPublicKey());
                        return p.name();
                    } catch (GeneralSecurityException ignored) {
                        // another root of the same name
                    }
                }
            }
        }
        return "";
    }

    // ---------------------------------------------------------------- release and withdraw

    /** A channel's release of a model. */
    public record Release(String model, String channel, long version, List<String> classes, Long rollbackFrom,
                          Instant releasedAt) {
    }

    /**
     * Points {@code channel} at {@code version} for devices whose {@code class} label is in {@code classes} (empty:
     * every class). A lower version than the channel's current one is an operator's rollback: the release carries
     * {@code rollbackFrom} (the highest version it rolls back from) so devices accept the downgrade.
     */
    public Release release(String name, long version, String channel, List<String> classes)
            throws ModelException, StoreException {
        if (name == null || !ModelNames.isValid(name)) {
            throw ModelException.badInput("model name '" + name + "' is not valid");
        }
        if (channel == null || !LABEL.matcher(channel).matches()) {
            throw ModelException.badInput("channel '" + channel + "' must match " + LABEL.pattern());
        }
        List<String> cls = classes == null ? List.of() : classes.stream().map(String::strip)
                .filter(s -> !s.isEmpty()).distinct().sorted().toList();
        for (String c : cls) {
            if (!LABEL.matcher(c).matches()) {
                throw ModelException.badInput("class '" + c + "' must match " + LABEL.pattern());
            }
        }
        if (withdrawals(name).stream().anyMatch(w -> w.withdraws(version))) {
            throw ModelException.refused("model.withdrawn", name + " version " + version
                    + " is withdrawn by its publisher and cannot be released");
        }
        Instant now = clock.instant();
        return store.inTransaction(c -> {
            if (!exists(c, "SELECT 1 FROM model_versions WHERE model_name = ? AND version = ?", name, version)) {
                throw ModelException.notFound(name + " version " + version + " is not published");
            }
            dev.siteward.gateway.rollout.RolloutService.checkNoActiveRollout(c, name, channel);
            Optional<Release> previous = releases(c, name).stream().filter(r -> r.channel().equals(channel))
                    .findFirst();
            Long rollbackFrom = null;
            if (previous.isPresent()) {
                long high = Math.max(previous.get().version(), previous.get().rollbackFrom() == null ? -1
                        : previous.get().rollbackFrom());
                rollbackFrom = version < high ? high : null;
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM model_releases WHERE model_name = ? "
                    + "AND channel = ?")) {
                ps.setString(1, name);
                ps.setString(2, channel);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO model_releases (model_name, channel, version, "
                    + "classes, rollback_from, released_at) VALUES (?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, name);
                ps.setString(2, channel);
                ps.setLong(3, version);
                ps.setString(4, String.join(",", cls));
                if (rollbackFrom == null) {
                    ps.setNull(5, Types.BIGINT);
                } else {
                    ps.setLong(5, rollbackFrom);
                }
                ps.setTimestamp(6, Timestamp.from(now));
                ps.executeUpdate();
            }
            // a release is a rollout with one 100% stage, recorded so rollouts of the channel see it
            dev.siteward.gateway.rollout.RolloutService.recordRelease(c, name, channel, version,
                    previous.map(Release::version).orElse(null), cls, now);
            return new Release(name, channel, version, cls, rollbackFrom, now);
        });
    }

    /** A stored withdrawal. */
    public record StoredWithdrawal(Withdrawal withdrawal, String bundleSha256, String publisher) {
    }

    /**
     * Stores a publisher's signed withdrawal after verifying it against the publishers that may sign its model name.
     * Storing the same statement twice is a no-op.
     */
    public StoredWithdrawal withdraw(byte[] bundle) throws ModelException, StoreException, IOException {
        if (bundle == null || bundle.length == 0) {
            throw ModelException.badInput("a withdrawal signature is required");
        }
        PublisherTrust trust = trust();
        List<X509Certificate> roots = new ArrayList<>();
        trust.publishers().stream().filter(p -> !p.models().isEmpty()).forEach(p -> roots.addAll(p.roots()));
        if (roots.isEmpty()) {
            throw ModelException.refused("model.untrusted_publisher", "no trusted model publisher");
        }
        WithdrawalResult r = ModelVerifier.trustingRoots(roots).withClock(clock).verifyWithdrawal(bundle);
        if (!r.verified()) {
            throw refusal(r.failure().orElseThrow(), "withdrawal");
        }
        Withdrawal w;
        try {
            w = r.orThrow();
        } catch (dev.siteward.pki.modelsig.ModelSignatureException e) {
            throw ModelException.refused("modelsig.bad_signature", e.getMessage());
        }
        if (!ModelNames.isValid(w.modelName())) {
            throw ModelException.refused("model.invalid_name", "withdrawal names '" + w.modelName()
                    + "', not a model name");
        }
        String publisher = publisherOf(trust, w.modelName(), r.signerChain());
        if (publisher.isEmpty()) {
            throw ModelException.refused("model.untrusted_publisher", "the withdrawal's signer may not sign "
                    + w.modelName() + " (wrong publisher for that name)");
        }
        String sha = blobs.put(bundle);
        Instant now = clock.instant();
        store.inTransaction(c -> {
            if (exists(c, "SELECT 1 FROM model_withdrawals WHERE bundle_sha256 = ?", sha)) {
                return null;
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO model_withdrawals (bundle_sha256, model_name, "
                    + "withdrawn_below, withdrawn_versions, issued_at, reason, publisher, stored_at) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, sha);
                ps.setString(2, w.modelName());
                if (w.withdrawnBelow().isPresent()) {
                    ps.setLong(3, w.withdrawnBelow().getAsLong());
                } else {
                    ps.setNull(3, Types.BIGINT);
                }
                ps.setString(4, String.join(",", w.withdrawnVersions().stream().map(String::valueOf).toList()));
                ps.setTimestamp(5, Timestamp.from(w.issuedAt()));
                ps.setString(6, truncate(w.reason(), 1024));
                ps.setString(7, publisher);
                ps.setTimestamp(8, Timestamp.from(now));
                ps.executeUpdate();
            }
            recordBlob(c, sha, bundle.length, now);
            return null;
        });
        return new StoredWithdrawal(w, sha, publisher);
    }

    /** The withdrawals stored for {@code name}. */
    public List<StoredWithdrawal> storedWithdrawals(String name) throws StoreException {
        return store.inTransaction(c -> storedWithdrawals(c, name));
    }

    static List<StoredWithdrawal> storedWithdrawals(Connection c, String name) throws SQLException {
        List<StoredWithdrawal> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT bundle_sha256, withdrawn_below, withdrawn_versions, "
                + "issued_at, reason, publisher FROM model_withdrawals WHERE model_name = ? ORDER BY bundle_sha256")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long below = rs.getLong(2);
                    OptionalLong b = rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(below);
                    String list = rs.getString(3);
                    List<Long> versions = list.isEmpty() ? List.of()
                            : Arrays.stream(list.split(",")).map(Long::parseLong).toList();
                    out.add(new StoredWithdrawal(new Withdrawal(name, b, versions, rs.getTimestamp(4).toInstant(),
                            rs.getString(5)), rs.getString(1), rs.getString(6)));
                }
            }
        }
        return out;
    }

    private List<Withdrawal> withdrawals(String name) throws StoreException {
        return storedWithdrawals(name).stream().map(StoredWithdrawal::withdrawal).toList();
    }

    // ---------------------------------------------------------------- queries

    /** A published version with its files. */
    public record Version(String model, long version, String signatureSha256, long signatureSize, boolean singleFile,
                          String publisher, Instant publishedAt, List<FileEntry> files, boolean withdrawn) {
    }

    /** One file of a version. */
    public record FileEntry(String path, long size, String sha256) {
    }

    /** A model with its versions and releases, for {@code siteward model list}. */
    public record ModelSummary(String name, List<Version> versions, List<Release> releases) {
    }

    /** Every model, its versions (oldest first) and releases. */
    public List<ModelSummary> list() throws StoreException {
        return store.inTransaction(c -> {
            List<String> names = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT name FROM models ORDER BY name");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
            List<ModelSummary> out = new ArrayList<>();
            for (String n : names) {
                out.add(new ModelSummary(n, versions(c, n), releases(c, n)));
            }
            return out;
        });
    }

    static Long lastVersion(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT MAX(version) FROM model_versions "
                + "WHERE model_name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long v = rs.getLong(1);
                return rs.wasNull() ? null : v;
            }
        }
    }

    static List<Version> versions(Connection c, String name) throws SQLException {
        List<Withdrawal> withdrawn = storedWithdrawals(c, name).stream().map(StoredWithdrawal::withdrawal).toList();
        List<Version> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT version, signature_sha256, signature_size, single_file, "
                + "publisher, published_at FROM model_versions WHERE model_name = ? ORDER BY version")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long v = rs.getLong(1);
                    out.add(new Version(name, v, rs.getString(2), rs.getLong(3), rs.getBoolean(4), rs.getString(5),
                            rs.getTimestamp(6).toInstant(), null, withdrawn.stream().anyMatch(w -> w.withdraws(v))));
                }
            }
        }
        List<Version> withFiles = new ArrayList<>();
        for (Version v : out) {
            withFiles.add(new Version(v.model(), v.version(), v.signatureSha256(), v.signatureSize(), v.singleFile(),
                    v.publisher(), v.publishedAt(), files(c, name, v.version()), v.withdrawn()));
        }
        return withFiles;
    }

    static List<FileEntry> files(Connection c, String name, long version) throws SQLException {
        List<FileEntry> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT path, size, sha256 FROM model_files WHERE "
                + "model_name = ? AND version = ? ORDER BY position")) {
            ps.setString(1, name);
            ps.setLong(2, version);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new FileEntry(rs.getString(1), rs.getLong(2), rs.getString(3)));
                }
            }
        }
        return out;
    }

    static List<Release> releases(Connection c, String name) throws SQLException {
        List<Release> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT channel, version, classes, rollback_from, released_at "
                + "FROM model_releases WHERE model_name = ? ORDER BY channel")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(release(name, rs));
                }
            }
        }
        return out;
    }

    static Release release(String name, ResultSet rs) throws SQLException {
        String classes = rs.getString("classes");
        long rb = rs.getLong("rollback_from");
        Long rollbackFrom = rs.wasNull() ? null : rb;
        return new Release(name, rs.getString("channel"), rs.getLong("version"),
                classes.isEmpty() ? List.of() : List.of(classes.split(",")), rollbackFrom,
                rs.getTimestamp("released_at").toInstant());
    }

    // ---------------------------------------------------------------- verified loading

    /**
     * A model version loaded into memory and verified: {@link #files()} maps each signed path (a single-file model:
     * {@code .}) to the exact bytes that were hashed and verified — hand these arrays to the runtime, never re-read
     * the files.
     */
    public record VerifiedModel(String name, long version, String publisher, Map<String, byte[]> files,
                                ModelSpec spec) {
        /** The bytes of the ONNX entry: the spec's entry, else the only {@code .onnx} file (or the single file). */
        public byte[] entry() {
            if (spec != null) {
                return files.get(spec.entry());
            }
            if (files.size() == 1) {
                return files.values().iterator().next();
            }
            return files.entrySet().stream().filter(e -> e.getKey().endsWith(".onnx")).map(Map.Entry::getValue)
                    .reduce((a, b) -> {
                        throw new IllegalStateException("several .onnx files and no " + ModelSpec.FILE_NAME);
                    }).orElseThrow(() -> new IllegalStateException("no .onnx file"));
        }
    }

    /**
     * Reads a published version's files and signature into memory and verifies the signature against the current
     * publisher trust over exactly those bytes ({@link ModelVerifier#verifyFiles}); refuses a withdrawn version.
     */
    public VerifiedModel loadVerified(String name, long version) throws ModelException, StoreException, IOException {
        Version v = store.inTransaction(c -> versions(c, name)).stream().filter(x -> x.version() == version)
                .findFirst().orElseThrow(() -> ModelException.notFound(name + " version " + version
                        + " is not published"));
        if (v.withdrawn()) {
            throw ModelException.refused("model.withdrawn", name + " version " + version + " is withdrawn");
        }
        byte[] bundle = Files.readAllBytes(blobs.path(v.signatureSha256()));
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (FileEntry f : v.files()) {
            files.put(f.path(), Files.readAllBytes(blobs.path(f.sha256())));
        }
        List<X509Certificate> roots = trust().rootsForModel(name);
        if (roots.isEmpty()) {
            throw ModelException.refused("model.untrusted_publisher", "no trusted publisher may sign " + name);
        }
        ModelVerifier verifier = ModelVerifier.trustingRoots(roots).withClock(clock);
        VerificationResult r = v.singleFile() ? verifier.verifySingleFile(files.get("."), bundle)
                : verifier.verifyFiles(files, bundle);
        if (!r.verified()) {
            throw refusal(r.failure().orElseThrow(), name + " version " + version);
        }
        ModelSpec spec = files.containsKey(ModelSpec.FILE_NAME) && !v.singleFile()
                ? ModelSpec.parse(files.get(ModelSpec.FILE_NAME)) : null;
        return new VerifiedModel(name, version, v.publisher(), Map.copyOf(files), spec);
    }

    // ---------------------------------------------------------------- helpers

    static boolean exists(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static String truncate(String s, int max) {
        return s == null ? "" : s.length() <= max ? s : s.substring(0, max);
    }
}
