package dev.siteward.gateway.authorization;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.pki.SecureFiles;
import dev.siteward.policies.AccessRequest;
import dev.siteward.policies.Decision;
import dev.siteward.policies.Effect;
import dev.siteward.policies.Explanation;
import dev.siteward.policies.InMemoryRateLimitState;
import dev.siteward.policies.PolicyDecider;
import dev.siteward.policies.PolicySet;
import dev.siteward.policies.RateLimitState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's active policy bundle and site mode, and the decisions made with them.
 *
 * <p>Layout under {@code <data-dir>/policy/}: {@code active/<version>-<digest prefix>/} holds the verified copy of the
 * active bundle (exactly the verified bytes and its {@code bundle.sig}); {@code state.json} names it with its version,
 * digest, expiry and activation time and is the one switch (written atomically: write, fsync, rename);
 * {@code site-mode.json} holds the site mode. A bundle is installed only after its signature (against the publishers
 * trusted for policies), every file digest, its metadata and expiry verify, its version is above every version this
 * gateway accepted before, and its policies load and pass its own {@code tests/} cases; otherwise the active bundle
 * stays as it was and the refusal says why.
 *
 * <p>Never fails open: with no bundle, an expired one, or one that no longer verifies at start-up, every decision is a
 * deny whose reason says so.
 */
public final class PolicyService {

    /** The folder under the data dir. */
    public static final String DIRECTORY = "policy";
    /** Site mode names: lowercase, as in policy files. */
    public static final Pattern MODE = Pattern.compile("[a-z][a-z0-9_-]{0,31}");

    private static final Logger LOG = LoggerFactory.getLogger(PolicyService.class);
    static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
            .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** Where the policy roots come from; read at every install, so a newly trusted publisher needs no restart. */
    @FunctionalInterface
    public interface PolicyRoots {
        List<X509Certificate> get() throws IOException;
    }

    /**
     * What {@code state.json} records about the active bundle.
     *
     * @param version   bundle version
     * @param digest    {@code sha256:} of its signature file
     * @param name      signed bundle name
     * @param created   when it was signed
     * @param expires   when it expires
     * @param activated when this gateway activated it
     * @param folder    its folder name under {@code active/}
     * @param signer    the signer's subject
     */
    public record BundleState(long version, String digest, String name, Instant created, Instant expires,
                              Instant activated, String folder, String signer) {
    }

    /** A refused bundle: when, from where, the code and the message. */
    public record Rejection(Instant at, String source, String code, String message) {
    }

    /** A decision and the bundle it was made with ({@code version} 0 and {@code digest} null when none). */
    public record Evaluation(Decision decision, Instant at, long bundleVersion, String bundleDigest) {
    }

    /** What {@code siteward policy status} shows. */
    public record Status(BundleState active, boolean valid, String problem, String siteMode, Rejection lastRejection) {
    }

    private record Active(BundleState state, PolicySet set, PolicyDecider decider, String problem) {
    }

    private final Path dir;
    private final PolicyRoots roots;
    private final Clock clock;
    private final RateLimitState rates = new InMemoryRateLimitState();
    private volatile Active active;
    private volatile String siteMode;
    private volatile Rejection lastRejection;
    private volatile dev.siteward.gateway.audit.AuditTrail audit = dev.siteward.gateway.audit.AuditTrail.NONE;

    /**
     * Opens the policy state of {@code dataDir}: the active bundle is re-verified (signature, files, trust) and
     * re-loaded; if that fails, no bundle is valid and every decision is a deny naming the problem.
     */
    public PolicyService(Path dataDir, PolicyRoots roots, Clock clock) throws IOException {
        this.dir = SecureFiles.createPrivateDirectory(dataDir.resolve(DIRECTORY));
        this.roots = roots;
        this.clock = clock;
        this.siteMode = readMode();
        this.active = reopen();
    }

    private Active reopen() {
        Path stateFile = dir.resolve("state.json");
        if (!Files.exists(stateFile)) {
            return null;
        }
        BundleState state;
        try {
            state = JSON.readValue(stateFile.toFile(), BundleState.class);
        } catch (IOException e) {
            LOG.error("policy state {} unreadable: every decision is deny", stateFile, e);
            return new Active(new BundleState(0, null, null, null, null, null, null, null), null, null,
                    "the policy state file is unreadable: " + e.getMessage());
        }
        Path folder = dir.resolve("active").resolve(state.folder());
        try {
            PolicyBundles.VerifiedBundle v = PolicyBundles.verify(PolicyBundles.read(folder), roots.get(),
                    clock.instant());
            if (v.metadata().version() != state.version() || !v.digest().equals(state.digest())) {
                throw new BundleException(BundleException.Reason.SIGNATURE, "the active folder holds version "
                        + v.metadata().version() + " " + v.digest() + ", the state names " + state.version());
            }
            PolicySet set = PolicyBundles.load(folder);
            return new Active(state, set, new PolicyDecider(set, clock, rates), null);
        } catch (BundleException e) {
            LOG.error("active policy bundle version {} refused at start: {}", state.version(), e.toString());
            return new Active(state, null, null, "the active bundle version " + state.version()
                    + " no longer verifies: " + e);
        } catch (IOException e) {
            return new Active(state, null, null, "the policy publishers' trust cannot be read: " + e.getMessage());
        }
    }

    /** Records every installed and refused bundle, and site mode changes, in {@code trail} (the audit log). */
    public void auditTo(dev.siteward.gateway.audit.AuditTrail trail) {
        this.audit = trail;
    }

    /** Installs the bundle folder at {@code folder}; see {@link #install(PolicyBundles.BundleFiles, String)}. */
    public BundleState install(Path folder) throws BundleException {
        return install(PolicyBundles.read(folder), folder.getFileName().toString());
    }

    /**
     * Verifies, loads and self-tests a bundle, then makes it the active one; on any refusal the active bundle stays.
     *
     * @param source where it came from, for the log and status ({@code push}, an incoming folder's name)
     * @throws BundleException why it was refused (also kept as the last rejection)
     */
    public synchronized BundleState install(PolicyBundles.BundleFiles bundle, String source) throws BundleException {
        try {
            BundleState s = doInstall(bundle);
            LOG.info("policy bundle {} version {} ({}) activated from {}", s.name(), s.version(), s.digest(), source);
            audit.record(dev.siteward.gateway.audit.AuditEvent.of(dev.siteward.gateway.audit.AuditEvent.POLICY_BUNDLE)
                    .actor(dev.siteward.gateway.audit.AuditActor.current()).subject("policy/" + s.name())
                    .detail("action", "activate").detail("version", s.version()).detail("digest", s.digest())
                    .detail("publisher", s.signer()).detail("expires", String.valueOf(s.expires()))
                    .detail("source", source).build());
            return s;
        } catch (BundleException e) {
            lastRejection = new Rejection(clock.instant(), source, e.code(), e.getMessage());
            LOG.warn("policy bundle from {} refused: {}", source, e.toString());
            audit.record(dev.siteward.gateway.audit.AuditEvent.of(dev.siteward.gateway.audit.AuditEvent.POLICY_BUNDLE)
                    .actor(dev.siteward.gateway.audit.AuditActor.current()).subject("policy")
                    .detail("action", "refuse").detail("code", e.code()).detail("message", e.getMessage())
                    .detail("source", source).build());
            throw e;
        }
    }

    private BundleState doInstall(PolicyBundles.BundleFiles bundle) throws BundleException {
        Instant now = clock.instant();
        List<X509Certificate> trusted;
        try {
            trusted = roots.get();
        } catch (IOException e) {
            throw new BundleException(BundleException.Reason.NO_TRUSTED_PUBLISHER,
                    "the policy publishers' trust cannot be read: " + e.getMessage(), null, e);
        }
        PolicyBundles.VerifiedBundle v = PolicyBundles.verify(bundle, trusted, now);
        long highest = highestVersion();
        if (v.metadata().version() <= highest) {
            throw new BundleException(BundleException.Reason.NOT_NEWER, "policy bundle " + v.name() + " version "
                    + v.metadata().version() + " is not newer than version " + highest + " accepted before");
        }
        String folderName = v.metadata().version() + "-" + v.digest().substring("sha256:".length(),
                "sha256:".length() + 12);
        Path activeDir = dir.resolve("active");
        Path target = activeDir.resolve(folderName);
        try {
            PolicyBundles.deleteTree(target);
            PolicyBundles.write(bundle, target);
        } catch (IOException e) {
            throw new BundleException(BundleException.Reason.UNREADABLE, "cannot write the verified copy: "
                    + e.getMessage(), null, e);
        }
        PolicySet set;
        try {
            set = PolicyBundles.loadAndTest(target);
        } catch (BundleException e) {
            deleteQuietly(target);
            throw e;
        }
        BundleState state = new BundleState(v.metadata().version(), v.digest(), v.name(), v.metadata().created(),
                v.metadata().expires(), now, folderName, v.signerName());
        Active previous = active;
        try {
            SecureFiles.writeAtomically(dir.resolve("state.json"), JSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsBytes(JSON.valueToTree(state)), false);
        } catch (IOException e) {
            deleteQuietly(target);
            throw new BundleException(BundleException.Reason.UNREADABLE, "cannot write the policy state: "
                    + e.getMessage(), null, e);
        }
        active = new Active(state, set, new PolicyDecider(set, clock, rates), null);
        if (previous != null && previous.state().folder() != null && !previous.state().folder().equals(folderName)) {
            deleteQuietly(activeDir.resolve(previous.state().folder()));
        }
        return state;
    }

    private long highestVersion() {
        Active a = active;
        return a == null ? 0 : a.state().version();
    }

    private static void deleteQuietly(Path p) {
        try {
            PolicyBundles.deleteTree(p);
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", p, e.getMessage());
        }
    }

    /**
     * Decides a live request now. Allowed uses count against rate limits; with no valid bundle the answer is a deny.
     */
    public Evaluation decide(AccessRequest request) {
        Instant now = clock.instant();
        Active a = active;
        String problem = problem(a, now);
        if (problem != null) {
            return new Evaluation(new Decision(Effect.DENY, List.of(), problem + " (deny by default)"), now,
                    a == null ? 0 : a.state().version(), a == null ? null : a.state().digest());
        }
        return new Evaluation(a.decider().decide(request), now, a.state().version(), a.state().digest());
    }

    /** Decides a request now as {@link #decide} does, but without counting it against rate limits (a dry run). */
    public Evaluation dryRun(AccessRequest request) {
        Instant now = clock.instant();
        Active a = active;
        String problem = problem(a, now);
        if (problem != null) {
            return new Evaluation(new Decision(Effect.DENY, List.of(), problem + " (deny by default)"), now,
                    a == null ? 0 : a.state().version(), a == null ? null : a.state().digest());
        }
        return new Evaluation(a.set().explain(request, now, rates).decision(), now, a.state().version(),
                a.state().digest());
    }

    /** Explains a request at {@code at} without counting anything; empty when no bundle is valid then. */
    public Optional<Explanation> explain(AccessRequest request, Instant at) {
        Active a = active;
        if (problem(a, at) != null) {
            return Optional.empty();
        }
        return Optional.of(a.set().explain(request, at, rates));
    }

    /** The active policy set, if any is valid now. */
    public Optional<PolicySet> activeSet() {
        Active a = active;
        return problem(a, clock.instant()) == null ? Optional.of(a.set()) : Optional.empty();
    }

    /** Why no decision can allow now, or null when a valid bundle is active. */
    public String problem() {
        return problem(active, clock.instant());
    }

    private static String problem(Active a, Instant now) {
        if (a == null) {
            return "no policy bundle is installed";
        }
        if (a.problem() != null) {
            return a.problem();
        }
        if (!now.isBefore(a.state().expires())) {
            return "the policy bundle version " + a.state().version() + " expired at " + a.state().expires();
        }
        return null;
    }

    public Status status() {
        Active a = active;
        String problem = problem(a, clock.instant());
        return new Status(a == null ? null : a.state(), problem == null, problem, siteMode, lastRejection);
    }

    /** The site mode every live request is decided in ({@code normal} until set). */
    public String siteMode() {
        return siteMode;
    }

    /** Sets and persists the site mode. */
    public synchronized void setSiteMode(String mode, String by) throws IOException {
        if (mode == null || !MODE.matcher(mode).matches()) {
            throw new IllegalArgumentException("invalid site mode '" + mode
                    + "': use a lowercase name such as normal or maintenance");
        }
        ObjectNode n = JSON.createObjectNode();
        n.put("mode", mode);
        n.put("setBy", by);
        n.put("setAt", clock.instant().toString());
        SecureFiles.writeAtomically(dir.resolve("site-mode.json"), JSON.writerWithDefaultPrettyPrinter()
                .writeValueAsBytes(n), false);
        LOG.info("site mode set to {} by {}", mode, by);
        siteMode = mode;
        audit.record(dev.siteward.gateway.audit.AuditEvent.of(dev.siteward.gateway.audit.AuditEvent.POLICY_BUNDLE)
                .actor(dev.siteward.gateway.audit.AuditActor.current()).subject("policy/site-mode")
                .detail("action", "site_mode").detail("mode", mode).detail("setBy", by).build());
    }

    private String readMode() throws IOException {
        Path f = dir.resolve("site-mode.json");
        if (!Files.exists(f)) {
            return dev.siteward.policies.RequestContext.DEFAULT_SITE_MODE;
        }
        JsonNode n = JSON.readTree(f.toFile());
        String mode = n.path("mode").asText("");
        if (!MODE.matcher(mode).matches()) {
            throw new IOException(f + ": invalid site mode '" + mode + "'");
        }
        return mode;
    }

    /** The clock decisions are made with. */
    public Clock clock() {
        return clock;
    }

    /** The folder of the policy state, {@code <data-dir>/policy}. */
    public Path directory() {
        return dir;
    }
}
