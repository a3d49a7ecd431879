package dev.siteward.device.models;

import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceException.Reason;
import dev.siteward.device.DeviceHttpClient;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.RetryPolicy;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.device.store.DeviceState;
import dev.siteward.pki.SecureFiles;
import dev.siteward.pki.modelsig.FileDifference;
import dev.siteward.pki.modelsig.ModelLocation;
import dev.siteward.pki.modelsig.ModelNames;
import dev.siteward.pki.modelsig.ModelVerifier;
import dev.siteward.pki.modelsig.VerificationFailure;
import dev.siteward.pki.modelsig.VerificationResult;
import dev.siteward.pki.validation.CrlSource;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Installs the models the gateway releases to this device, and only those a trusted publisher signed
 * (docs/device-sdk.md, "Models"; the wire contract is docs/model-releases.md).
 *
 * <p>{@link #fetch} pins the site's trust document (first time), fetches the device's release metadata and accepts
 * it through {@link ModelTrustState} (signature to the pinned root, replay, expiry, device, snapshot, withdrawals,
 * version rules), downloads the signature bundle and the files with resume, checks every byte against the metadata
 * and the publisher's signature (roots the trust document allows for that name), installs into the inactive A/B
 * slot (the previous version stays in the other), runs the application's {@link ModelHealthCheck}, falls back to
 * the previous slot when it fails, and reports the outcome to the gateway.
 *
 * <p>Security failures are {@link ModelSecurityException}s (one type per kind, each with its contract code),
 * reported as {@code refused} and never retried with the same bytes; transport failures are
 * {@link DeviceException}s, retried with backoff by the {@link RetryPolicy} and reported as {@code failed} when they
 * persist. In every failure the installed model and the active slot stay exactly as they were.
 */
public final class ModelClient {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final DeviceState device;
    private final ModelGateway gateway;
    private final ModelStore store;
    private final SignedDocuments documents;
    private final Clock clock;
    private final RetryPolicy retry;
    private final Duration offlineAllowance;
    private ModelHealthCheck healthCheck = ModelHealthCheck.NONE;
    private Duration stallTimeout = BlobDownloader.DEFAULT_STALL_TIMEOUT;

    /**
     * @param device           the enrolled device (id, trust domain, pinned root)
     * @param deviceDir        the device directory; models live in {@code <dir>/models}
     * @param gateway          the gateway's model routes
     * @param crls             the gateway's CRLs, for the release certificate's revocation check
     * @param offlineAllowance how long after metadata expiry the device counts as offline rather than frozen
     */
    public ModelClient(DeviceState device, DeviceDirectory deviceDir, ModelGateway gateway, CrlSource crls,
            Clock clock, RetryPolicy retry, Duration offlineAllowance) {
        this.device = device;
        this.gateway = gateway;
        this.store = new ModelStore(deviceDir.path());
        this.documents = new SignedDocuments(device.roots(clock.instant()), device.trustDomain(), crls, clock);
        this.clock = clock;
        this.retry = retry;
        this.offlineAllowance = offlineAllowance;
    }

    /** A client over the device's own mTLS connection to the gateway. */
    public static ModelClient over(DeviceHttpClient http, DeviceDirectory deviceDir, Clock clock, RetryPolicy retry,
            Duration offlineAllowance) {
        DeviceIdentity id = http.identity();
        return new ModelClient(id.state(), deviceDir, new HttpModelGateway(http), http.crls(), clock, retry,
                offlineAllowance);
    }

    /** The application's health check for newly installed models (default: none). */
    public ModelClient healthCheck(ModelHealthCheck check) {
        this.healthCheck = check;
        return this;
    }

    /** How long a download may deliver no byte before it is abandoned and retried (default 30 s). */
    public ModelClient stallTimeout(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the stall timeout must be positive");
        }
        this.stallTimeout = timeout;
        return this;
    }

    public ModelStore store() {
        return store;
    }

    private ModelTrustState loadState(InstalledModels installed) throws DeviceException {
        ModelTrustState state = new ModelTrustState(documents, device.deviceId(), clock, offlineAllowance);
        try {
            state.restore(store.readText("trust.jws"), store.readText("metadata.jws"), installed.withdrawn());
        } catch (IllegalArgumentException e) {
            throw ModelStore.storage(e.getMessage(), e);
        }
        return state;
    }

    /**
     * Fetches the site's trust document and pins it (a higher validly signed version replaces the pinned one). Call
     * it right after enrollment; {@link #fetch} calls it when nothing is pinned yet.
     */
    public TrustDocument pinTrust() throws DeviceException, ModelSecurityException {
        try (AutoCloseable lock = store.lock()) {
            ModelTrustState state = loadState(store.load());
            pinTrust(state);
            return state.trust();
        } catch (DeviceException | ModelSecurityException e) {
            throw e;
        } catch (Exception e) {
            throw ModelStore.storage("cannot release the models lock", e);
        }
    }

    private void pinTrust(ModelTrustState state) throws DeviceException, ModelSecurityException {
        String jws = retry.run(gateway::trust);
        if (state.acceptTrust(jws)) {
            store.writeText("trust.jws", state.trustJws() + "\n");
        }
    }

    /**
     * Brings {@code name} to the version the gateway releases to this device.
     *
     * @throws IllegalArgumentException the name is not {@code team/name}
     * @throws ModelSecurityException   the release was refused (reported; the installed model is unchanged)
     * @throws DeviceException          transport failure after retries, or a local failure
     */
    public FetchResult fetch(String name) throws DeviceException, ModelSecurityException {
        ModelNames.require(name);
        try (AutoCloseable lock = store.lock()) {
            return fetchLocked(name);
        } catch (DeviceException | ModelSecurityException e) {
            throw e;
        } catch (Exception e) {
            throw ModelStore.storage("cannot release the models lock", e);
        }
    }

    private FetchResult fetchLocked(String name) throws DeviceException, ModelSecurityException {
        InstalledModels installed = store.load();
        ModelTrustState state = loadState(installed);
        InstalledModels.ModelSlots slots = installed.model(name);
        Long releasedVersion = null;
        try {
            if (state.trust() == null) {
                pinTrust(state);
            }
            String metadataJws = retry.run(gateway::metadata);
            if (state.trustVersionOf(metadataJws) > state.trust().version()) {
                pinTrust(state);
                if (state.trustVersionOf(metadataJws) > state.trust().version()) {
                    throw new DeviceException(Reason.PROTOCOL, "the release metadata needs trust document version "
                            + state.trustVersionOf(metadataJws) + " but the gateway serves version "
                            + state.trust().version());
                }
            }
            boolean newMetadata = !metadataJws.strip().equals(state.metadataJws());
            ReleaseMetadata metadata = state.acceptMetadata(metadataJws);
            if (newMetadata) {
                store.writeText("metadata.jws", state.metadataJws() + "\n");
            }
            installed = installed.withWithdrawn(state.withdrawals());
            store.commit(installed);
            InstalledModels.Slot active = slots.activeSlot();
            ReleaseDecision decision = state.decide(name, active == null ? null : active.version(),
                    active == null ? null : active.signatureSha256());
            ReleaseMetadata.ModelRelease release = decision.release();
            releasedVersion = release == null ? null : release.version();
            switch (decision.action()) {
                case NOT_RELEASED:
                    return new FetchResult(name, FetchResult.Outcome.NOT_RELEASED, null, running(slots),
                            previous(slots), slots.active(), name + " is not released to this device");
                case CURRENT:
                    return new FetchResult(name, FetchResult.Outcome.CURRENT, release.version(), active.version(),
                            previous(slots), slots.active(), name + " version " + active.version()
                                    + " is current");
                default:
                    break;
            }
            InstalledModels.Slot other = slots.previous();
            if (other != null && other.healthFailed() && other.version() == release.version()
                    && other.signatureSha256().equals(release.signature().sha256())) {
                return new FetchResult(name, FetchResult.Outcome.FALLBACK, release.version(), running(slots),
                        other.version(), slots.active(), name + " version " + release.version() + " failed its "
                                + "health check on this device earlier; waiting for another release");
            }
            return install(name, release, decision.action(), metadata, state, installed);
        } catch (ModelSecurityException e) {
            record(name, releasedVersion, ModelReport.REFUSED, e.code().code(), e.getMessage(), state);
            throw e;
        } catch (DeviceException e) {
            if (e.retryable()) {
                record(name, releasedVersion, ModelReport.FAILED, e.reason().code(), e.getMessage(), state);
            }
            throw e;
        }
    }

    private static Long running(InstalledModels.ModelSlots slots) {
        return slots.activeSlot() == null ? null : slots.activeSlot().version();
    }

    private static Long previous(InstalledModels.ModelSlots slots) {
        return slots.previous() == null ? null : slots.previous().version();
    }

    private FetchResult install(String name, ReleaseMetadata.ModelRelease release, ReleaseDecision.Action action,
            ReleaseMetadata metadata, ModelTrustState state, InstalledModels installed)
            throws DeviceException, ModelSecurityException {
        String what = name + " version " + release.version();
        List<X509Certificate> roots = state.publisherRootsFor(name);
        if (roots.isEmpty()) {
            throw RefusalCode.MODEL_UNTRUSTED_PUBLISHER.refuse("no pinned publisher may sign " + name);
        }
        boolean singleFile = checkPaths(what, release.files());
        BlobDownloader downloader = new BlobDownloader(gateway, retry, store.downloads(), stallTimeout);
        store.ensure();
        Path sigBlob = downloader.download(release.signature(), "the signature of " + what);
        byte[] bundle = read(sigBlob);
        ModelVerifier verifier = ModelVerifier.trustingRoots(roots).withClock(clock);
        checkSignedNames(what, release, verifier.verifyFiles(Map.of(), bundle));

        Map<String, Path> blobs = new LinkedHashMap<>();
        for (ReleaseMetadata.ReleasedFile f : release.files()) {
            if (!blobs.containsKey(f.sha256())) {
                blobs.put(f.sha256(), downloader.download(f.blob(), what + " file " + f.path()));
            }
        }
        Path modelDir = store.modelDir(name);
        Path staging = modelDir.resolve(".staging-" + HexFormat.of().formatHex(randomBytes()));
        try {
            Files.createDirectories(modelDir);
            ModelStore.deleteTree(staging);
            Files.createDirectory(staging);
            Path modelPath = staging;
            Map<String, Long> useCount = release.files().stream().collect(java.util.stream.Collectors.groupingBy(
                    ReleaseMetadata.ReleasedFile::sha256, java.util.stream.Collectors.counting()));
            for (ReleaseMetadata.ReleasedFile f : release.files()) {
                Path target = singleFile ? staging.resolve(".single-file") : staging.resolve(f.path());
                if (!target.normalize().startsWith(staging)) {
                    throw RefusalCode.MODEL_PATH_REFUSED.refuse(what + ": path " + f.path() + " leaves the model");
                }
                Files.createDirectories(target.getParent());
                if (useCount.get(f.sha256()) == 1) {
                    Files.move(blobs.get(f.sha256()), target);     // a blob used once is moved, not copied
                } else {
                    Files.copy(blobs.get(f.sha256()), target, StandardCopyOption.REPLACE_EXISTING);
                }
                fsync(target);
                modelPath = singleFile ? target : staging;
            }
            VerificationResult result = verifier.verify(ModelLocation.of(modelPath), bundle);
            if (!result.verified()) {
                throw refusal(what, result.failure().orElseThrow());
            }
            if (singleFile) {
                // a single file is named after the signature's subject name, when that is a plain file name
                String subject = result.modelName();
                String fileName = pathProblem(subject) == null && !subject.contains("/")
                        && !subject.startsWith(".") ? subject : singleFileName(name);
                Files.move(modelPath, staging.resolve(fileName));
            }
            InstalledModels.ModelSlots slots = installed.model(name);
            String slot = slots.inactive();
            Long previousVersion = running(slots);
            // 1. forget what the inactive slot held, 2. replace it, 3. commit it as active
            installed = installed.with(name, slots.with(slot, null, slots.active()));
            store.commit(installed);
            ModelStore.deleteTree(store.slotDir(name, slot));
            Files.deleteIfExists(store.signatureFile(name, slot));
            move(staging, store.slotDir(name, slot));
            SecureFiles.writeAtomically(store.signatureFile(name, slot), bundle, true);
            SecureFiles.fsyncDirectory(modelDir);
            slots = installed.model(name).with(slot, new InstalledModels.Slot(release.version(),
                    release.signature().sha256(), clock.instant(), singleFile, false), slot);
            installed = installed.with(name, slots);
            store.commit(installed);
            for (Path b : blobs.values()) {
                Files.deleteIfExists(b);
            }
            Files.deleteIfExists(sigBlob);

            String failure = runHealthCheck(name);
            if (failure != null) {
                String back = slots.inactive();
                InstalledModels.Slot failedSlot = slots.slots().get(slot).failed();
                String newActive = slots.slots().containsKey(back) ? back : null;
                slots = slots.with(slot, failedSlot, newActive);
                String message = what + " failed its health check (" + failure + "); "
                        + (newActive == null ? "no previous version to go back to"
                        : "back to version " + slots.activeSlot().version() + " in slot " + newActive);
                installed = installed.with(name, slots.withLast(new InstalledModels.LastResult(ModelReport.FALLBACK,
                        release.version(), "model.health_check_failed", message, clock.instant())));
                store.commit(installed);
                report(new ModelReport(name, release.version(), ModelReport.FALLBACK, "model.health_check_failed",
                        message, metadata.snapshot()));
                return new FetchResult(name, FetchResult.Outcome.FALLBACK, release.version(), running(slots),
                        release.version(), newActive, message);
            }
            String message = (action == ReleaseDecision.Action.ROLLBACK ? "rolled back " + name + " to version "
                    : "installed " + name + " version ") + release.version() + " in slot " + slot
                    + (previousVersion == null ? "" : " (previous version " + previousVersion + " kept)");
            installed = installed.with(name, slots.withLast(new InstalledModels.LastResult(ModelReport.INSTALLED,
                    release.version(), null, message, clock.instant())));
            store.commit(installed);
            report(new ModelReport(name, release.version(), ModelReport.INSTALLED, null, message,
                    metadata.snapshot()));
            return new FetchResult(name, action == ReleaseDecision.Action.ROLLBACK ? FetchResult.Outcome.ROLLED_BACK
                    : FetchResult.Outcome.INSTALLED, release.version(), release.version(), previousVersion, slot,
                    message);
        } catch (IOException e) {
            throw ModelStore.storage("cannot install " + what + " under " + modelDir, e);
        } finally {
            try {
                ModelStore.deleteTree(staging);
            } catch (IOException ignored) {
                // a stray staging folder is removed by the next install of this model
            }
        }
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return b;
    }

    private String runHealthCheck(String name) {
        if (healthCheck == ModelHealthCheck.NONE) {
            return null;     // the install was verified from disk already; nothing to load
        }
        try {
            healthCheck.check(load(name));
            return null;
        } catch (Exception e) {
            return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        }
    }

    /**
     * Checks the metadata's paths: relative, {@code /}-separated, no empty, {@code .} or {@code ..} segment, no
     * duplicates; a single-file model has exactly one file named {@code .}.
     *
     * @return true for a single-file model
     */
    static boolean checkPaths(String what, List<ReleaseMetadata.ReleasedFile> files) throws ModelSecurityException {
        if (files.isEmpty()) {
            throw RefusalCode.MODEL_FILES_MISMATCH.refuse(what + ": the release lists no file");
        }
        if (files.size() == 1 && files.get(0).path().equals(".")) {
            return true;
        }
        TreeSet<String> seen = new TreeSet<>();
        for (ReleaseMetadata.ReleasedFile f : files) {
            String problem = pathProblem(f.path());
            if (problem != null) {
                throw RefusalCode.MODEL_PATH_REFUSED.refuse(what + ": refusing path '" + f.path() + "' (" + problem
                        + ")");
            }
            if (!seen.add(f.path())) {
                throw RefusalCode.MODEL_PATH_REFUSED.refuse(what + ": path '" + f.path() + "' is listed twice");
            }
        }
        return false;
    }

    static String pathProblem(String p) {
        if (p.isEmpty()) {
            return "empty path";
        }
        if (p.startsWith("/") || (p.length() >= 2 && p.charAt(1) == ':')) {
            return "absolute path";
        }
        if (p.indexOf('\\') >= 0 || p.indexOf('\0') >= 0) {
            return "backslash or NUL in path";
        }
        for (String segment : p.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return "'" + segment + "' path segment";
            }
        }
        return null;
    }

    /**
     * Compares the file names the signature lists with the metadata's before anything large is downloaded. The
     * verification of an empty file set proves the signature and the publisher; its "missing" list is the signed
     * manifest.
     */
    private static void checkSignedNames(String what, ReleaseMetadata.ModelRelease release, VerificationResult pre)
            throws ModelSecurityException {
        VerificationFailure f = pre.failure().orElse(null);
        if (f == null || f.reason() != dev.siteward.pki.modelsig.FailureReason.DIGEST_MISMATCH) {
            if (f == null) {
                throw RefusalCode.MODEL_FILES_MISMATCH.refuse(what + ": the signature lists no file");
            }
            throw refusal(what, f);
        }
        Map<String, String> signed = new TreeMap<>();
        for (FileDifference d : f.differences()) {
            if (d.kind() == FileDifference.Kind.MISSING) {
                signed.put(d.name(), d.expectedSha256());
            }
        }
        Map<String, String> released = new TreeMap<>();
        release.files().forEach(r -> released.put(r.path(), r.sha256()));
        if (!signed.keySet().equals(released.keySet())) {
            TreeSet<String> added = new TreeSet<>(released.keySet());
            added.removeAll(signed.keySet());
            TreeSet<String> removed = new TreeSet<>(signed.keySet());
            removed.removeAll(released.keySet());
            throw RefusalCode.MODEL_FILES_MISMATCH.refuse(what + ": the release's files differ from the signed ones"
                    + (added.isEmpty() ? "" : "; not signed: " + added)
                    + (removed.isEmpty() ? "" : "; signed but not released: " + removed));
        }
        for (Map.Entry<String, String> e : signed.entrySet()) {
            if (!e.getValue().equals(released.get(e.getKey()))) {
                throw RefusalCode.MODEL_DIGEST_MISMATCH.refuse(what + ": file " + e.getKey()
                        + " has another SHA-256 in the release than in the signature");
            }
        }
    }

    /** Maps a model-signature failure to the contract's refusal. */
    static ModelSecurityException refusal(String what, VerificationFailure f) {
        String message = what + ": " + f.reason().code() + ": " + f.message();
        return switch (f.reason()) {
            case UNTRUSTED_CHAIN -> RefusalCode.MODEL_UNTRUSTED_PUBLISHER.refuse(message);
            case PATH_REFUSED -> RefusalCode.MODEL_PATH_REFUSED.refuse(message);
            case DIGEST_MISMATCH -> f.differences().stream().anyMatch(d -> d.kind() != FileDifference.Kind
                    .DIGEST_DIFFERS) ? RefusalCode.MODEL_FILES_MISMATCH.refuse(message)
                    : RefusalCode.MODEL_DIGEST_MISMATCH.refuse(message);
            default -> RefusalCode.MODEL_BAD_SIGNATURE.refuse(message);
        };
    }

    /**
     * Reads the active slot of {@code name} and verifies it in memory: the signature bundle is the one the release
     * named, the publisher is one the pinned trust document allows for the name (checked at the signing
     * certificate's start, so an installed model outlives its publisher certificate), and every file matches the
     * signature. A symbolic link or special file in the slot is refused.
     */
    public VerifiedModel load(String name) throws DeviceException, ModelSecurityException {
        ModelNames.require(name);
        InstalledModels installed = store.load();
        InstalledModels.ModelSlots slots = installed.model(name);
        InstalledModels.Slot slot = slots.activeSlot();
        if (slot == null) {
            throw new DeviceException(Reason.BAD_INPUT, name + " is not installed");
        }
        String what = name + " version " + slot.version() + " (slot " + slots.active() + ")";
        ModelTrustState state = loadState(installed);
        List<X509Certificate> roots = state.publisherRootsFor(name);
        if (roots.isEmpty()) {
            throw RefusalCode.MODEL_UNTRUSTED_PUBLISHER.refuse("no pinned publisher may sign " + name);
        }
        Path folder = store.slotDir(name, slots.active());
        byte[] bundle;
        Map<String, byte[]> files = new TreeMap<>();
        try {
            bundle = Files.readAllBytes(store.signatureFile(name, slots.active()));
            if (!HexFormat.of().formatHex(dev.siteward.pki.Certificates.sha256(bundle))
                    .equals(slot.signatureSha256())) {
                throw RefusalCode.MODEL_DIGEST_MISMATCH.refuse(what + ": the signature file is not the released one");
            }
            String[] problem = new String[1];
            Files.walkFileTree(folder, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    if (!attrs.isRegularFile()) {
                        problem[0] = folder.relativize(file) + " is a symbolic link or special file";
                        return FileVisitResult.TERMINATE;
                    }
                    String rel = folder.relativize(file).toString().replace('\\', '/');
                    files.put(slot.singleFile() ? "." : rel, Files.readAllBytes(file));
                    return FileVisitResult.CONTINUE;
                }
            });
            if (Files.isSymbolicLink(folder)) {
                problem[0] = "the slot folder is a symbolic link";
            }
            if (problem[0] != null) {
                throw RefusalCode.MODEL_PATH_REFUSED.refuse(what + ": " + problem[0]);
            }
        } catch (IOException e) {
            throw ModelStore.storage("cannot read " + what, e);
        }
        if (slot.singleFile() && files.size() != 1) {
            throw RefusalCode.MODEL_FILES_MISMATCH.refuse(what + ": a single-file model's slot holds "
                    + files.size() + " files");
        }
        VerificationResult r = ModelVerifier.trustingRoots(roots).withClock(clock)
                .validatingAtSigningCertificateStart().verifyFiles(files, bundle);
        if (!r.verified()) {
            throw refusal(what, r.failure().orElseThrow());
        }
        return new VerifiedModel(name, slot.version(), slots.active(), folder, files);
    }

    /** What is installed, what the accepted metadata says, and how fresh it is. */
    public ModelStatus status() throws DeviceException {
        InstalledModels installed = store.load();
        ModelTrustState state = loadState(installed);
        return new ModelStatus(state.trust(), state.metadata(), state.freshness(), installed,
                offlineAllowance);
    }

    private void record(String name, Long version, String result, String code, String message,
            ModelTrustState state) {
        try {
            InstalledModels installed = store.load();
            store.commit(installed.with(name, installed.model(name).withLast(new InstalledModels.LastResult(result,
                    version, code, message, clock.instant()))));
        } catch (DeviceException ignored) {
            // the refusal itself is what the caller needs; the record is a courtesy
        }
        String snapshot = state.metadata() == null ? null : state.metadata().snapshot();
        report(new ModelReport(name, version, result, code, message, snapshot));
    }

    /** Reports once, without retries: a report that cannot be sent must not change the outcome. */
    private void report(ModelReport r) {
        try {
            gateway.report(r);
        } catch (DeviceException | RuntimeException ignored) {
            // the gateway sees the device's state at its next report
        }
    }

    private static String singleFileName(String name) {
        return name.substring(name.indexOf('/') + 1);
    }

    private static byte[] read(Path p) throws DeviceException {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw ModelStore.storage("cannot read " + p, e);
        }
    }

    private static void fsync(Path file) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }
}
