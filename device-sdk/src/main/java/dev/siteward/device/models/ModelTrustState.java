package dev.siteward.device.models;

import com.fasterxml.jackson.databind.JsonNode;
import dev.siteward.pki.modelsig.ModelVerifier;
import dev.siteward.pki.modelsig.Withdrawal;
import dev.siteward.pki.modelsig.WithdrawalResult;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The device's trusted model-release state, pure logic without I/O (in the spirit of python-tuf's trusted metadata
 * set): the pinned trust document, the last accepted release metadata and the publishers' withdrawals it carried.
 * Every update is checked in full before anything changes; a refused document leaves the state exactly as it was.
 *
 * <p>Rules (docs/model-releases.md): documents must be signed by the site's release key
 * ({@link SignedDocuments}); a trust document or metadata with a lower version than the accepted one, or the same
 * version with other content, is a replay; expired metadata is refused (freeze); metadata for another device is
 * refused; the snapshot must match the listed models (mix-and-match); withdrawals count only when signed by a
 * publisher the trust document allows for that model name. Time comes from the injected clock.
 */
public final class ModelTrustState {

    /** Default grace after metadata expiry during which a device is considered offline rather than frozen. */
    public static final Duration DEFAULT_OFFLINE_ALLOWANCE = Duration.ofDays(3);

    private final SignedDocuments documents;
    private final String deviceId;
    private final Clock clock;
    private final Duration offlineAllowance;

    private String trustJws;
    private TrustDocument trust;
    private String metadataJws;
    private ReleaseMetadata metadata;
    private final Map<String, WithdrawnVersions> withdrawn = new HashMap<>();

    public ModelTrustState(SignedDocuments documents, String deviceId, Clock clock, Duration offlineAllowance) {
        if (offlineAllowance.isNegative()) {
            throw new IllegalArgumentException("the offline allowance must not be negative");
        }
        this.documents = Objects.requireNonNull(documents);
        this.deviceId = Objects.requireNonNull(deviceId);
        this.clock = Objects.requireNonNull(clock);
        this.offlineAllowance = offlineAllowance;
    }

    /**
     * Restores state the device accepted earlier (read from its directory; not checked again).
     *
     * @throws IllegalArgumentException a stored document cannot be read
     */
    public void restore(String acceptedTrustJws, String acceptedMetadataJws, Map<String, WithdrawnVersions> known) {
        try {
            if (acceptedTrustJws != null) {
                trust = TrustDocument.parse(SignedDocuments.payloadOfAccepted(acceptedTrustJws));
                trustJws = acceptedTrustJws.strip();
            }
            if (acceptedMetadataJws != null) {
                metadata = ReleaseMetadata.parse(SignedDocuments.payloadOfAccepted(acceptedMetadataJws));
                metadataJws = acceptedMetadataJws.strip();
            }
        } catch (ParseException | IOException | ModelSecurityException e) {
            throw new IllegalArgumentException("stored model metadata is unreadable: " + e.getMessage(), e);
        }
        withdrawn.putAll(known);
    }

    /**
     * Accepts a trust document: a validly signed one with a higher version replaces the pinned one; the same
     * document again changes nothing.
     *
     * @return true when the pinned document changed
     */
    public boolean acceptTrust(String jws) throws ModelSecurityException {
        JsonNode payload = documents.verify(jws, SignedDocuments.TRUST_TYP);
        TrustDocument next = TrustDocument.parse(payload);
        if (trust != null) {
            if (next.version() < trust.version()
                    || (next.version() == trust.version() && !jws.strip().equals(trustJws))) {
                throw RefusalCode.METADATA_REPLAYED.refuse("trust document version " + next.version()
                        + " is not above the pinned version " + trust.version());
            }
            if (next.version() == trust.version()) {
                return false;
            }
        }
        trust = next;
        trustJws = jws.strip();
        return true;
    }

    /**
     * The trust document version that the (validly signed) metadata was made with, so a caller can fetch a newer
     * trust document first.
     */
    public long trustVersionOf(String metadataJws) throws ModelSecurityException {
        return ReleaseMetadata.parse(documents.verify(metadataJws, SignedDocuments.RELEASE_TYP)).trustVersion();
    }

    /**
     * Accepts release metadata after every check, and records the withdrawals it carries.
     *
     * @return the accepted metadata
     * @throws IllegalStateException no trust document is pinned, or the pinned one is older than the metadata's
     */
    public ReleaseMetadata acceptMetadata(String jws) throws ModelSecurityException {
        if (trust == null) {
            throw new IllegalStateException("no trust document pinned");
        }
        ReleaseMetadata next = ReleaseMetadata.parse(documents.verify(jws, SignedDocuments.RELEASE_TYP));
        if (!deviceId.equals(next.device())) {
            throw RefusalCode.METADATA_WRONG_DEVICE.refuse("the release metadata is for device '" + next.device()
                    + "', not '" + deviceId + "'");
        }
        if (metadata != null && (next.version() < metadata.version()
                || (next.version() == metadata.version() && !jws.strip().equals(metadataJws)))) {
            throw RefusalCode.METADATA_REPLAYED.refuse("release metadata version " + next.version()
                    + " is not above the accepted version " + metadata.version() + " (a replayed document)");
        }
        Instant now = clock.instant();
        // a device without a real-time clock tolerates its clock's skew (zero on a trusted clock)
        if (!next.expires().plus(dev.siteward.device.time.DeviceClock.toleranceOf(clock)).isAfter(now)) {
            throw RefusalCode.METADATA_EXPIRED.refuse("release metadata version " + next.version() + " expired at "
                    + next.expires());
        }
        String snapshot = ReleaseMetadata.snapshotOf(next.models());
        if (!snapshot.equals(next.snapshot())) {
            throw RefusalCode.METADATA_MIX_AND_MATCH.refuse("the snapshot " + next.snapshot()
                    + " does not match the listed models (" + snapshot + ")");
        }
        if (next.trustVersion() > trust.version()) {
            throw new IllegalStateException("the metadata was made with trust document version "
                    + next.trustVersion() + ", the pinned one is " + trust.version());
        }
        Map<String, WithdrawnVersions> merged = new HashMap<>(withdrawn);
        for (byte[] bundle : next.withdrawals()) {
            Withdrawal w = verifiedWithdrawal(bundle);
            if (w != null) {
                merged.merge(w.modelName(), WithdrawnVersions.NONE.merge(w), (a, b) -> a.merge(w));
            }
        }
        metadata = next;
        metadataJws = jws.strip();
        withdrawn.clear();
        withdrawn.putAll(merged);
        return next;
    }

    /**
     * A withdrawal whose signature verifies to a root the trust document allows for its model name, or null: an
     * unverifiable statement is no publisher's word and is ignored.
     */
    private Withdrawal verifiedWithdrawal(byte[] bundle) {
        List<X509Certificate> all = trust.allRoots();
        if (all.isEmpty()) {
            return null;
        }
        WithdrawalResult any = ModelVerifier.trustingRoots(all).withClock(clock).verifyWithdrawal(bundle);
        if (!any.verified()) {
            return null;
        }
        Withdrawal w;
        try {
            w = any.orThrow();
        } catch (Exception e) {
            return null;
        }
        List<X509Certificate> allowed = trust.rootsFor(w.modelName());
        if (allowed.isEmpty()
                || !ModelVerifier.trustingRoots(allowed).withClock(clock).verifyWithdrawal(bundle).verified()) {
            return null;
        }
        return w;
    }

    /**
     * What the accepted metadata directs for {@code name}, given the installed version and signature digest (null
     * when nothing is installed).
     */
    public ReleaseDecision decide(String name, Long installedVersion, String installedSignatureSha256)
            throws ModelSecurityException {
        if (metadata == null) {
            throw new IllegalStateException("no release metadata accepted");
        }
        if (!metadata.expires().plus(dev.siteward.device.time.DeviceClock.toleranceOf(clock))
                .isAfter(clock.instant())) {
            throw RefusalCode.METADATA_EXPIRED.refuse("the release metadata expired at " + metadata.expires());
        }
        ReleaseMetadata.ModelRelease r = metadata.model(name).orElse(null);
        if (r == null) {
            return new ReleaseDecision(ReleaseDecision.Action.NOT_RELEASED, null);
        }
        if (withdrawn(name).withdraws(r.version())) {
            throw RefusalCode.MODEL_WITHDRAWN.refuse(name + " version " + r.version()
                    + " is withdrawn by its publisher");
        }
        if (installedVersion == null || r.version() > installedVersion) {
            return new ReleaseDecision(ReleaseDecision.Action.INSTALL, r);
        }
        if (r.version() == installedVersion) {
            if (r.signature().sha256().equals(installedSignatureSha256)) {
                return new ReleaseDecision(ReleaseDecision.Action.CURRENT, r);
            }
            throw RefusalCode.MODEL_ROLLBACK_REFUSED.refuse(name + " version " + r.version()
                    + " is installed with another signature; a version is never replaced by other bytes");
        }
        if (r.rollbackFrom() != null && r.rollbackFrom() >= installedVersion) {
            return new ReleaseDecision(ReleaseDecision.Action.ROLLBACK, r);
        }
        throw RefusalCode.MODEL_ROLLBACK_REFUSED.refuse(name + " version " + r.version()
                + " is below the installed version " + installedVersion + " and the metadata directs no rollback"
                + " from it");
    }

    /** How current the accepted metadata is at the clock's time. */
    public Freshness freshness() {
        if (metadata == null) {
            return Freshness.NONE;
        }
        Instant now = clock.instant();
        if (metadata.expires().isAfter(now)) {
            return Freshness.FRESH;
        }
        return metadata.expires().plus(offlineAllowance).isAfter(now) ? Freshness.OFFLINE : Freshness.FROZEN;
    }

    /** The remembered withdrawals of {@code name}. */
    public WithdrawnVersions withdrawn(String name) {
        return withdrawn.getOrDefault(name, WithdrawnVersions.NONE);
    }

    public Map<String, WithdrawnVersions> withdrawals() {
        return Map.copyOf(withdrawn);
    }

    /** The publisher roots allowed to sign {@code name} by the pinned trust document (empty when none). */
    public List<X509Certificate> publisherRootsFor(String name) {
        return trust == null ? List.of() : trust.rootsFor(name);
    }

    public TrustDocument trust() {
        return trust;
    }

    public String trustJws() {
        return trustJws;
    }

    public ReleaseMetadata metadata() {
        return metadata;
    }

    public String metadataJws() {
        return metadataJws;
    }

    public Duration offlineAllowance() {
        return offlineAllowance;
    }
}
