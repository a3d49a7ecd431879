package dev.siteward.gateway.audit;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Something that happened and must be on the record: its type, who did it (actor), what it was done to (subject)
 * and details (a small JSON object). Build one with {@link #of(String)}:
 * <pre>{@code
 * audit.append(AuditEvent.of(AuditEvent.REVOCATION).actor("admin/alice").subject("device/valve-1")
 *         .detail("serial", "1f2e").detail("reason", "keyCompromise").build());
 * }</pre>
 */
public record AuditEvent(String type, String actor, String subject, Map<String, Object> details) {

    /** A device certificate was issued on first enrollment (token or factory certificate). */
    public static final String ENROLLMENT = "enrollment";
    /** A device certificate was renewed ({@code simplereenroll}). */
    public static final String RENEWAL = "renewal";
    /** A certificate was revoked, or a device suspended or resumed. */
    public static final String REVOCATION = "revocation";
    /** One admin API request: method, path, status. */
    public static final String ADMIN_CALL = "admin_call";
    /** The issuing CA was rotated. */
    public static final String CA_ROTATION = "ca_rotation";
    /** The root was rolled over (new root, cross certificate, new issuing CA). */
    public static final String CA_ROOT_ROTATION = "ca_root_rotation";
    /** The earlier roots of a rollover were retired. */
    public static final String CA_ROOT_RETIREMENT = "ca_root_retirement";
    public static final String MODEL_PUBLISH = "model_publish";
    public static final String ROLLOUT = "rollout";
    public static final String POLICY_BUNDLE = "policy_bundle";
    public static final String ACTION_DECISION = "action_decision";
    /** Records were deleted by retention (a deletion receipt). */
    public static final String PURGE = "purge";
    /** The gateway found the head file missing or not matching the log at start-up and re-sealed the log. */
    public static final String AUDIT_RECOVERY = "audit_recovery";

    /** The actor for what the gateway does on its own. */
    public static final String GATEWAY = "gateway";

    /** Types: lower case letters, digits, '_' and '.', starting with a letter, at most 64 characters. */
    public static final Pattern TYPE = Pattern.compile("[a-z][a-z0-9_.]{0,63}");
    public static final int MAX_ACTOR = 256;
    public static final int MAX_SUBJECT = 1024;

    public AuditEvent {
        Objects.requireNonNull(type, "type");
        if (!TYPE.matcher(type).matches()) {
            throw new IllegalArgumentException("invalid audit event type '" + type + "'");
        }
        actor = actor == null || actor.isEmpty() ? GATEWAY : actor;
        subject = subject == null ? "" : subject;
        if (actor.length() > MAX_ACTOR || subject.length() > MAX_SUBJECT) {
            throw new IllegalArgumentException("audit actor or subject too long");
        }
        details = details == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(details));
    }

    /** The record of an issuing-CA rotation, by whoever is acting ({@link AuditActor}). */
    public static AuditEvent caRotation(dev.siteward.pki.ca.SiteCa ca, int generation) {
        return of(CA_ROTATION).actor(AuditActor.current()).subject("ca/issuing").detail("generation", generation)
                .detail("subject", ca.issuingCertificate().getSubjectX500Principal().getName())
                .detail("fingerprint", dev.siteward.pki.Certificates.fingerprint(ca.issuingCertificate())).build();
    }

    /** The record of a root rollover, by whoever is acting. */
    public static AuditEvent caRootRotation(dev.siteward.pki.ca.SiteCa ca, int rootGeneration) {
        return of(CA_ROOT_ROTATION).actor(AuditActor.current()).subject("ca/root")
                .detail("rootGeneration", rootGeneration)
                .detail("fingerprint", dev.siteward.pki.Certificates.fingerprint(ca.root()))
                .detail("issuingGeneration", ca.issuingGeneration()).build();
    }

    /** The record of ending a root rollover's overlap; {@code cutOff} unexpired certificates lost their trust. */
    public static AuditEvent caRootRetirement(dev.siteward.pki.ca.SiteCa ca, int cutOff) {
        return of(CA_ROOT_RETIREMENT).actor(AuditActor.current()).subject("ca/root")
                .detail("currentRoot", dev.siteward.pki.Certificates.fingerprint(ca.root()))
                .detail("certificatesCutOff", cutOff).build();
    }

    public static Builder of(String type) {
        return new Builder(type);
    }

    /** Fluent builder: the type is required, everything else optional (actor defaults to {@code gateway}). */
    public static final class Builder {
        private final String type;
        private String actor;
        private String subject;
        private final Map<String, Object> details = new LinkedHashMap<>();

        private Builder(String type) {
            this.type = type;
        }

        /** Who acted: {@code admin/<name>}, {@code device/<id>}, {@code gateway}, {@code local/<user>}. */
        public Builder actor(String actor) {
            this.actor = actor;
            return this;
        }

        /** What was acted on, e.g. {@code device/valve-1}, {@code certificate/1f2e...}, {@code ca/issuing}. */
        public Builder subject(String subject) {
            this.subject = subject;
            return this;
        }

        /** A detail: strings, numbers, booleans, lists and maps (serialised as JSON, keys sorted); null skipped. */
        public Builder detail(String key, Object value) {
            if (value != null) {
                details.put(key, value);
            }
            return this;
        }

        public AuditEvent build() {
            return new AuditEvent(type, actor, subject, details);
        }
    }
}
