package dev.siteward.gateway.authorization;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.devices.Device;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.ca.CertificateRegistry;
import dev.siteward.policies.AccessRequest;
import dev.siteward.policies.Decision;
import dev.siteward.policies.RequestContext;
import dev.siteward.policies.Resource;
import dev.siteward.policies.Subject;
import dev.siteward.policies.SubjectKind;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides {@code POST /v1/actions/{action}}: builds the request from the caller's authenticated identity (device
 * labels from the registry, an admin's role from the certificate registry), decides it with the active bundle in the
 * current site mode, records the decision, and on allow signs an action grant for the resource.
 *
 * <p>Body: {@code {"resource": "valve-07" | {"id", "zone", "labels"}, "context": {...}}}. An admin may add
 * {@code "subject": {"kind", "id", "roles", "labels"}} to ask on behalf of someone: a dry run, decided without
 * counting rate limits, recorded as such, with no grant.
 */
public final class ActionService {

    /** Action names: dotted names of policy characters; no wildcards. */
    public static final Pattern ACTION = Pattern.compile("[A-Za-z0-9_:@/-]+(\\.[A-Za-z0-9_:@/-]+)*");
    /** Resource ids, zones, label keys and values. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:@/-]{1,255}");

    private static final Logger LOG = LoggerFactory.getLogger(ActionService.class);
    private static final Set<String> BODY_KEYS = Set.of("resource", "context", "subject");
    private static final Set<String> RESOURCE_KEYS = Set.of("id", "zone", "labels");
    private static final Set<String> SUBJECT_KEYS = Set.of("kind", "id", "roles", "labels");

    private final PolicyService policies;
    private final DecisionLog log;
    private final GrantIssuer grants;
    private final DeviceRegistry devices;
    private final CertificateRegistry certificates;

    private final dev.siteward.gateway.audit.AuditTrail audit;

    public ActionService(PolicyService policies, DecisionLog log, GrantIssuer grants, DeviceRegistry devices,
                         CertificateRegistry certificates) {
        this(policies, log, grants, devices, certificates, dev.siteward.gateway.audit.AuditTrail.NONE);
    }

    /** As above, with every decision also written to {@code audit} (the audit log) after the decision log. */
    public ActionService(PolicyService policies, DecisionLog log, GrantIssuer grants, DeviceRegistry devices,
                         CertificateRegistry certificates, dev.siteward.gateway.audit.AuditTrail audit) {
        this.audit = audit;
        this.policies = policies;
        this.log = log;
        this.grants = grants;
        this.devices = devices;
        this.certificates = certificates;
    }

    /**
     * The answer.
     *
     * @param decisionId    the recorded decision's id
     * @param effect        {@code allow} or {@code deny}
     * @param reason        why
     * @param rules         the deciding rule ids
     * @param decidedAt     when
     * @param siteMode      the site mode it was decided in
     * @param bundleVersion the bundle version (0: none)
     * @param bundleDigest  the bundle digest, or null
     * @param dryRun        an admin's dry run
     * @param subject       the subject decided for
     * @param grant         the action grant (allow, not a dry run), or null
     * @param grantExpires  the grant's expiry, or null
     */
    public record ActionAnswer(String decisionId, String effect, String reason, List<String> rules, Instant decidedAt,
                               String siteMode, long bundleVersion, String bundleDigest, boolean dryRun,
                               String subject, String grant, Instant grantExpires) {
    }

    /** Decides {@code action} for the caller; {@code body} is the raw JSON request body. */
    public ActionAnswer decide(SpiffeId caller, X509Certificate callerCertificate, String action, String body)
            throws GatewayException, StoreException {
        if (action == null || action.length() > 255 || !ACTION.matcher(action).matches()) {
            throw new GatewayException(Reason.BAD_REQUEST, "invalid action name: use a dotted name such as "
                    + "valve.open (letters, digits, _ : @ / -; no wildcards)");
        }
        JsonNode root = parse(body);
        onlyKeys(root, BODY_KEYS, "the body");
        Resource resource = resource(root.get("resource"));
        JsonNode context = root.get("context");
        if (context != null && !context.isNull()) {
            if (!context.isObject()) {
                throw new GatewayException(Reason.BAD_REQUEST, "context must be a JSON object");
            }
            if (context.has("siteMode")) {
                throw new GatewayException(Reason.BAD_REQUEST, "context.siteMode is not for the caller to set: "
                        + "the gateway decides in its own site mode");
            }
        }
        JsonNode onBehalf = root.get("subject");
        boolean dryRun = onBehalf != null && !onBehalf.isNull();
        Subject subject;
        String subjectName;
        if (dryRun) {
            if (caller.kind() != SpiffeId.Kind.ADMIN) {
                throw new GatewayException(Reason.FORBIDDEN, "only an admin may ask on behalf of a subject");
            }
            subject = onBehalfSubject(onBehalf);
            subjectName = subject.kind().name().toLowerCase(Locale.ROOT) + ":" + subject.id();
        } else {
            subject = callerSubject(caller, callerCertificate);
            subjectName = caller.toString();
        }
        AccessRequest request = new AccessRequest(subject, action, resource,
                new RequestContext(policies.siteMode()));
        PolicyService.Evaluation ev;
        if (dryRun) {
            ev = policies.dryRun(request);
        } else {
            ev = policies.decide(request);
        }
        Decision d = ev.decision();
        String decisionId = UUID.randomUUID().toString();
        GrantIssuer.Grant grant = null;
        if (d.allowed() && !dryRun) {
            try {
                grant = grants.issue(subjectName, action, resource.id(), decisionId);
            } catch (GrantIssuer.GrantException e) {
                LOG.error("decision {}: allowed but no grant could be signed", decisionId, e);
                record(decisionId, ev, request, dryRun, caller, null);
                throw new GatewayException(Reason.UNAVAILABLE, "the action was allowed but no grant could be signed; "
                        + "retry later", e);
            }
        }
        record(decisionId, ev, request, dryRun, caller, grant == null ? null : grant.id());
        return new ActionAnswer(decisionId, d.effect().yamlName(), d.reason(), d.ruleIds(), ev.at(),
                request.context().siteMode(), ev.bundleVersion(), ev.bundleDigest(), dryRun, subjectName,
                grant == null ? null : grant.token(), grant == null ? null : grant.expires());
    }

    private void record(String id, PolicyService.Evaluation ev, AccessRequest request, boolean dryRun,
                        SpiffeId caller, String grantId) throws GatewayException {
        Decision d = ev.decision();
        try {
            log.record(new DecisionLog.Entry(id, ev.at(), request, d.effect(), d.ruleIds(), d.reason(),
                    ev.bundleVersion(), ev.bundleDigest(), dryRun, caller.toString(), grantId));
        } catch (StoreException e) {
            // an unrecorded decision must not take effect: no grant leaves the gateway
            throw new GatewayException(Reason.UNAVAILABLE, "the decision could not be recorded; retry later", e);
        }
        audit.record(dev.siteward.gateway.audit.AuditEvent.of(dev.siteward.gateway.audit.AuditEvent.ACTION_DECISION)
                .actor(caller.toString()).subject("action/" + request.action())
                .detail("decision", id).detail("effect", d.effect().yamlName())
                .detail("resource", request.resource() == null ? null : request.resource().id())
                .detail("rules", d.ruleIds()).detail("bundleVersion", ev.bundleVersion())
                .detail("bundleDigest", ev.bundleDigest()).detail("dryRun", dryRun)
                .detail("grant", grantId).build());
    }

    private Subject callerSubject(SpiffeId caller, X509Certificate cert) throws GatewayException, StoreException {
        Instant notBefore = cert == null ? null : cert.getNotBefore().toInstant();
        return switch (caller.kind()) {
            case DEVICE -> {
                Map<String, String> labels = devices.find(caller.name()).map(Device::labels).orElse(Map.of());
                yield Subject.device(caller.name(), labels, notBefore);
            }
            case ADMIN -> new Subject(caller.name(), SubjectKind.ADMIN, adminRoles(cert), Map.of(), notBefore);
            case SERVICE -> new Subject(caller.name(), SubjectKind.SERVICE, Set.of(), Map.of(), notBefore);
            default -> throw new GatewayException(Reason.FORBIDDEN, caller.kind().segment()
                    + " certificates may not ask for actions");
        };
    }

    private Set<String> adminRoles(X509Certificate cert) {
        if (cert == null) {
            return Set.of();
        }
        return certificates.find(cert.getSerialNumber()).map(e -> e.role()).filter(r -> r != null && !r.isBlank())
                .map(Set::of).orElse(Set.of());
    }

    private Subject onBehalfSubject(JsonNode n) throws GatewayException, StoreException {
        if (!n.isObject()) {
            throw new GatewayException(Reason.BAD_REQUEST, "subject must be an object {kind, id, roles, labels}");
        }
        onlyKeys(n, SUBJECT_KEYS, "subject");
        String kind = text(n, "kind", "subject.kind");
        String id = text(n, "id", "subject.id");
        Set<String> roles = new LinkedHashSet<>();
        JsonNode r = n.get("roles");
        if (r != null && !r.isNull()) {
            if (!r.isArray()) {
                throw new GatewayException(Reason.BAD_REQUEST, "subject.roles must be a list of names");
            }
            for (JsonNode role : r) {
                roles.add(name(role, "subject.roles"));
            }
        }
        Map<String, String> labels = labels(n.get("labels"), "subject.labels");
        return switch (kind) {
            case "device" -> {
                Map<String, String> registered = devices.find(id).map(Device::labels).orElseThrow(() ->
                        new GatewayException(Reason.DEVICE_NOT_FOUND, "no device '" + id + "'"));
                if (!labels.isEmpty()) {
                    throw new GatewayException(Reason.BAD_REQUEST, "a device's labels come from the registry; "
                            + "leave subject.labels out");
                }
                yield new Subject(id, SubjectKind.DEVICE, roles, registered, null);
            }
            case "admin" -> new Subject(id, SubjectKind.ADMIN, roles, labels, null);
            case "service" -> new Subject(id, SubjectKind.SERVICE, roles, labels, null);
            default -> throw new GatewayException(Reason.BAD_REQUEST, "subject.kind must be device, admin or "
                    + "service");
        };
    }

    private static Resource resource(JsonNode n) throws GatewayException {
        if (n == null || n.isNull()) {
            throw new GatewayException(Reason.BAD_REQUEST, "resource is required: the actuator's id, or "
                    + "{\"id\", \"zone\", \"labels\"}");
        }
        if (n.isTextual()) {
            return new Resource(name(n, "resource"), null, Map.of());
        }
        if (!n.isObject()) {
            throw new GatewayException(Reason.BAD_REQUEST, "resource must be an id or an object {id, zone, labels}");
        }
        onlyKeys(n, RESOURCE_KEYS, "resource");
        String id = name(n.get("id"), "resource.id");
        JsonNode zone = n.get("zone");
        return new Resource(id, zone == null || zone.isNull() ? null : name(zone, "resource.zone"),
                labels(n.get("labels"), "resource.labels"));
    }

    private static Map<String, String> labels(JsonNode n, String what) throws GatewayException {
        if (n == null || n.isNull()) {
            return Map.of();
        }
        if (!n.isObject()) {
            throw new GatewayException(Reason.BAD_REQUEST, what + " must be an object of names");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!NAME.matcher(e.getKey()).matches()) {
                throw new GatewayException(Reason.BAD_REQUEST, what + ": invalid label key");
            }
            out.put(e.getKey(), name(e.getValue(), what + "." + e.getKey()));
        }
        return out;
    }

    private static String text(JsonNode n, String key, String what) throws GatewayException {
        JsonNode v = n.get(key);
        if (v == null || !v.isTextual()) {
            throw new GatewayException(Reason.BAD_REQUEST, what + " is required (a string)");
        }
        return v.asText();
    }

    private static String name(JsonNode v, String what) throws GatewayException {
        if (v == null || !v.isTextual() || !NAME.matcher(v.asText()).matches()) {
            throw new GatewayException(Reason.BAD_REQUEST, what + " must be a name of 1-255 letters, digits or "
                    + ". _ : @ / -");
        }
        return v.asText();
    }

    private static void onlyKeys(JsonNode n, Set<String> allowed, String what) throws GatewayException {
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!allowed.contains(k)) {
                throw new GatewayException(Reason.BAD_REQUEST, what + ": unknown key '" + clip(k) + "' (expected "
                        + allowed.stream().sorted().toList() + ")");
            }
        }
    }

    private static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }

    static JsonNode parse(String body) throws GatewayException {
        if (body == null || body.isBlank()) {
            throw new GatewayException(Reason.BAD_REQUEST, "a JSON body is required: {\"resource\": ...}");
        }
        JsonNode root;
        try {
            root = PolicyService.JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new GatewayException(Reason.BAD_REQUEST, "the body is not valid JSON (line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        }
        if (root == null || !root.isObject()) {
            throw new GatewayException(Reason.BAD_REQUEST, "the body must be a JSON object");
        }
        return root;
    }
}
