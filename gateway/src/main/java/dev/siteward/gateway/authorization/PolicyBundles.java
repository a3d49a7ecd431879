package dev.siteward.gateway.authorization;

import dev.siteward.pki.SecureFiles;
import dev.siteward.pki.modelsig.ModelLocation;
import dev.siteward.pki.modelsig.ModelVerifier;
import dev.siteward.pki.modelsig.VerificationResult;
import dev.siteward.policies.PolicyException;
import dev.siteward.policies.PolicyLoader;
import dev.siteward.policies.PolicySet;
import dev.siteward.policies.SiteConfig;
import dev.siteward.policies.testing.CaseResult;
import dev.siteward.policies.testing.PolicyTestRunner;
import dev.siteward.policies.testing.TestReport;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

/**
 * Signed policy bundles, as read by both {@code siteward policy verify|push} and the gateway: a bundle folder read into
 * memory (bounded), verified as a model folder in the model-signing format against the policy publishers' roots, its
 * signed {@code siteward-bundle.yaml} checked for expiry, and the verified bytes — and only those — written where the
 * policy loader reads them (docs/policies.md, "Signed bundles").
 */
public final class PolicyBundles {

    /** The signature of a signed bundle, inside the bundle folder (left out of what it signs). */
    public static final String SIGNATURE_FILE = "bundle.sig";
    /** At most this many files in a bundle. */
    public static final int MAX_FILES = 1000;
    /** At most this many bytes in all files of a bundle together, signature included. */
    public static final long MAX_BYTES = 16L << 20;

    private PolicyBundles() {
    }

    /**
     * The files of a bundle, by resource name ({@code valves.yaml}, {@code tests/valves.yaml}), and its signature
     * ({@code null} when there is none).
     */
    public record BundleFiles(Map<String, byte[]> files, byte[] signature) {
        public BundleFiles {
            files = Map.copyOf(files);
        }

        /** Total size of the files and the signature. */
        public long size() {
            long n = signature == null ? 0 : signature.length;
            for (byte[] b : files.values()) {
                n += b.length;
            }
            return n;
        }
    }

    /**
     * A bundle whose signature, files and metadata verified.
     *
     * @param name     the signed name (the folder name at signing)
     * @param metadata version, created, expires
     * @param digest   {@code sha256:<hex>} of the signature file, which names every file's digest
     * @param files    the verified files
     * @param signer   the signer's chain, leaf first
     */
    public record VerifiedBundle(String name, PolicyBundleMetadata metadata, String digest, BundleFiles files,
                                 java.util.List<X509Certificate> signer) {

        /** The signer's subject, for messages. */
        public String signerName() {
            return signer.isEmpty() ? "(unknown)" : signer.get(0).getSubjectX500Principal().getName();
        }
    }

    /**
     * Reads every regular file of {@code dir} (recursively) into memory, except {@code bundle.sig} and git metadata
     * at the root; {@code bundle.sig} becomes the signature. Symbolic links and special files are refused.
     *
     * @throws BundleException {@link BundleException.Reason#UNREADABLE} when the folder cannot be read or breaks
     *                         the size limits
     */
    public static BundleFiles read(Path dir) throws BundleException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new BundleException(BundleException.Reason.UNREADABLE, "policy bundle " + dir
                    + ": not a directory");
        }
        Map<String, byte[]> files = new TreeMap<>();
        long[] total = {0};
        byte[][] signature = {null};
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                    if (!d.equals(dir) && d.getParent().equals(dir)
                            && ModelLocation.GIT_PATHS.contains(d.getFileName().toString())) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    String name = dir.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
                    boolean atRoot = file.getParent().equals(dir);
                    if (atRoot && ModelLocation.GIT_PATHS.contains(name)) {
                        return FileVisitResult.CONTINUE;
                    }
                    if (!attrs.isRegularFile()) {
                        throw new IOException(name + " is not a regular file (links and special files are refused)");
                    }
                    total[0] += attrs.size();
                    if (total[0] > MAX_BYTES || files.size() >= MAX_FILES) {
                        throw new IOException("larger than " + MAX_FILES + " files or " + (MAX_BYTES >> 20)
                                + " MiB");
                    }
                    byte[] content = Files.readAllBytes(file);
                    if (atRoot && name.equals(SIGNATURE_FILE)) {
                        signature[0] = content;
                    } else {
                        files.put(name, content);
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException e) {
            throw new BundleException(BundleException.Reason.UNREADABLE, "policy bundle " + dir + ": "
                    + e.getFile() + " vanished while it was read", null, e);
        } catch (IOException e) {
            throw new BundleException(BundleException.Reason.UNREADABLE, "policy bundle " + dir + ": "
                    + e.getMessage(), null, e);
        }
        return new BundleFiles(files, signature[0]);
    }

    /**
     * Verifies a bundle at {@code at}: the signature and the signer's chain against {@code roots}, every file's
     * digest, the signed metadata and its expiry.
     *
     * @throws BundleException naming the first problem
     */
    public static VerifiedBundle verify(BundleFiles bundle, Collection<X509Certificate> roots, Instant at)
            throws BundleException {
        if (bundle.signature() == null) {
            throw new BundleException(BundleException.Reason.UNSIGNED, "the bundle has no " + SIGNATURE_FILE
                    + ": sign it with 'siteward policy sign'");
        }
        if (roots.isEmpty()) {
            throw new BundleException(BundleException.Reason.NO_TRUSTED_PUBLISHER, "no publisher is trusted for "
                    + "policies: add one with 'siteward publisher add NAME --roots PEM --policies'");
        }
        ModelVerifier verifier = ModelVerifier.trustingRoots(roots).withClock(Clock.fixed(at, ZoneOffset.UTC));
        VerificationResult result = verifier.verifyFiles(bundle.files(), bundle.signature());
        if (!result.verified()) {
            var failure = result.failure().orElseThrow();
            throw new BundleException(BundleException.Reason.SIGNATURE, failure.message(), failure, null);
        }
        byte[] metadataBytes = bundle.files().get(PolicyBundleMetadata.FILE_NAME);
        if (metadataBytes == null || !result.fileDigests().containsKey(PolicyBundleMetadata.FILE_NAME)) {
            throw new BundleException(BundleException.Reason.METADATA_MISSING, "the signature does not cover "
                    + PolicyBundleMetadata.FILE_NAME + ": not a signed policy bundle");
        }
        PolicyBundleMetadata metadata;
        try {
            metadata = PolicyBundleMetadata.parse(metadataBytes);
        } catch (IllegalArgumentException e) {
            throw new BundleException(BundleException.Reason.METADATA_INVALID, e.getMessage());
        }
        if (metadata.expiredAt(at)) {
            throw new BundleException(BundleException.Reason.EXPIRED, "policy bundle " + result.modelName()
                    + " version " + metadata.version() + " expired at " + metadata.expires());
        }
        return new VerifiedBundle(result.modelName(), metadata, "sha256:" + result.bundleSha256(), bundle,
                result.signerChain());
    }

    /**
     * Writes the bundle's files and signature into {@code target}, which must not exist: into a temporary sibling
     * first, every file fsynced, then renamed into place, so {@code target} is either absent or complete.
     */
    public static void write(BundleFiles bundle, Path target) throws IOException {
        Path parent = target.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + target.getFileName() + ".tmp");
        try {
            for (Map.Entry<String, byte[]> e : bundle.files().entrySet()) {
                Path file = tmp.resolve(e.getKey()).normalize();
                if (!file.startsWith(tmp)) {
                    throw new IOException("file name escapes the bundle: " + e.getKey());
                }
                Files.createDirectories(file.getParent());
                SecureFiles.writeAtomically(file, e.getValue(), false);
            }
            if (bundle.signature() != null) {
                SecureFiles.writeAtomically(tmp.resolve(SIGNATURE_FILE), bundle.signature(), false);
            }
            Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            SecureFiles.fsyncDirectory(parent);
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
    }

    /**
     * Loads the policy files of a folder written by {@link #write} and runs its {@code tests/} cases.
     *
     * @throws BundleException {@link BundleException.Reason#POLICY_INVALID} with {@code file:line:column} of the
     *                         first problem, or {@link BundleException.Reason#TESTS_FAILED} with the first failing case
     */
    public static PolicySet loadAndTest(Path dir) throws BundleException {
        PolicySet set = load(dir);
        if (!PolicyTestRunner.testFiles(dir).isEmpty()) {
            TestReport report;
            try {
                report = PolicyTestRunner.run(set, dir);
            } catch (PolicyException e) {
                throw invalid(e, dir);
            }
            if (!report.failures().isEmpty()) {
                CaseResult first = report.failures().get(0);
                throw new BundleException(BundleException.Reason.TESTS_FAILED, report.failures().size()
                        + " test case(s) fail, first " + relative(first.toString(), dir));
            }
        }
        return set;
    }

    /** Loads the policy files of a folder (the metadata file is not one). */
    public static PolicySet load(Path dir) throws BundleException {
        try {
            return PolicyLoader.load(dir, SiteConfig.DEFAULTS);
        } catch (PolicyException e) {
            throw invalid(e, dir);
        }
    }

    private static BundleException invalid(PolicyException e, Path dir) {
        int more = e.problems().size() - 1;
        return new BundleException(BundleException.Reason.POLICY_INVALID, relative(e.problems().get(0).toString(),
                dir) + (more > 0 ? " (and " + more + " more problem(s))" : ""), null, e);
    }

    /** Shortens absolute paths in a message to names inside the bundle ({@code valves.yaml:12:3: ...}). */
    private static String relative(String message, Path dir) {
        String prefix = dir.toAbsolutePath().toString() + java.io.File.separator;
        return message.replace(prefix, "").replace(dir + java.io.File.separator, "");
    }

    /** Deletes a folder and everything below it; missing is fine. */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
