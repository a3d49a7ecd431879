package dev.siteward.gateway.authorization;

import com.fasterxml.jackson.databind.JsonNode;
import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.policies.AccessRequest;
import dev.siteward.policies.Explanation;
import dev.siteward.policies.RequestContext;
import dev.siteward.policies.Resource;
import dev.siteward.policies.Subject;
import dev.siteward.policies.SubjectKind;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What the policy admin API does, shared by the running gateway's controller and the CLI acting on a stopped
 * gateway's data dir: push a bundle, explain a request against the active bundle, list recorded decisions. The JSON
 * shapes here are the admin API's wire format (docs/gateway.md).
 */
public final class PolicyAdminOperations {

    private final PolicyService policies;
    private final DecisionLog log;

    public PolicyAdminOperations(PolicyService policies, DecisionLog log) {
        this.policies = policies;
        this.log = log;
    }

    /** Installs a bundle; refusals are {@link BundleRefused} carrying the bundle code. */
    public Map<String, Object> push(PolicyBundles.BundleFiles bundle, String source) throws BundleRefused {
        try {
            PolicyService.BundleState s = policies.install(bundle, source);
            return state(s);
        } catch (BundleException e) {
            throw new BundleRefused(e);
        }
    }

    /** The JSON form of a bundle's state. */
    public static Map<String, Object> state(PolicyService.BundleState s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("version", s.version());
        m.put("digest", s.digest());
        m.put("created", String.valueOf(s.created()));
        m.put("expires", String.valueOf(s.expires()));
        m.put("activated", String.valueOf(s.activated()));
        m.put("signer", s.signer());
        return m;
    }

    /** A refused bundle, with the status the admin API answers: 409 for a version not newer, else 422 or 400. */
    public static final class BundleRefused extends Exception {
        private final transient BundleException cause;

        BundleRefused(BundleException cause) {
            super(cause.getMessage(), cause);
            this.cause = cause;
        }

        public BundleException bundleException() {
            return cause;
        }

        public int status() {
            return switch (cause.reason()) {
                case NOT_NEWER -> 409;
                case UNREADABLE -> 400;
                default -> 422;
            };
        }
    }

    /** Encodes a bundle for {@code POST /v1/admin/policy}. */
    public static Map<String, Object> bundleToJson(PolicyBundles.BundleFiles bundle) {
        Map<String, String> files = new LinkedHashMap<>();
        bundle.files().forEach((k, v) -> files.put(k, Base64.getEncoder().encodeToString(v)));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("files", files);
        m.put("signature", bundle.signature() == null ? null : Base64.getEncoder().encodeToString(bundle.signature()));
        return m;
    }

    /** Decodes the body of {@code POST /v1/admin/policy}. */
    public static PolicyBundles.BundleFiles bundleFromJson(JsonNode root) throws GatewayException {
        JsonNode files = root.get("files");
        if (files == null || !files.isObject() || files.isEmpty()) {
            throw new GatewayException(Reason.BAD_REQUEST, "expected {\"files\": {name: base64, ...}, "
                    + "\"signature\": base64}");
        }
        if (files.size() > PolicyBundles.MAX_FILES) {
            throw new GatewayException(Reason.TOO_LARGE, "more than " + PolicyBundles.MAX_FILES + " files");
        }
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = files.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            if (!validName(name)) {
                throw new GatewayException(Reason.BAD_REQUEST, "invalid file name in the bundle: use relative "
                        + "names such as valves.yaml or tests/valves.yaml");
            }
            out.put(name, base64(e.getValue(), "files." + name));
        }
        JsonNode sig = root.get("signature");
        byte[] signature = sig == null || sig.isNull() ? null : base64(sig, "signature");
        PolicyBundles.BundleFiles bundle = new PolicyBundles.BundleFiles(out, signature);
        if (bundle.size() > PolicyBundles.MAX_BYTES) {
            throw new GatewayException(Reason.TOO_LARGE, "the bundle is larger than "
                    + (PolicyBundles.MAX_BYTES >> 20) + " MiB");
        }
        return bundle;
    }

    private static boolean validName(String name) {
        if (name.isEmpty() || name.length() > 255 || name.startsWith("/") || name.contains("\\")
                || name.equals(PolicyBundles.SIGNATURE_FILE)) {
            return false;
        }
        for (String part : name.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..") || !part.matches("[A-Za-z0-9._-]+")) {
                return false;
            }
        }
        return true;
    }

    private static byte[] base64(JsonNode n, String what) throws GatewayException {
        if (!n.isTextual()) {
            throw new GatewayException(Reason.BAD_REQUEST, what + " must be base64 text");
        }
        try {
            return Base64.getDecoder().decode(n.asText());
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.BAD_REQUEST, what + " is not valid base64");
        }
    }

    /**
     * Explains a request against the active bundle. Body: {@code {"subject": {kind, id, roles, labels,
     * certificateNotBefore}, "action", "resource": {id, zone, labels} | null, "siteMode", "at"}}; {@code siteMode}
     * defaults to the gateway's and {@code at} to now.
     */
    public Map<String, Object> explain(JsonNode root) throws GatewayException {
        JsonNode s = root.path("subject");
        if (!s.isObject()) {
            throw new GatewayException(Reason.BAD_REQUEST, "subject is required: {kind, id, roles, labels}");
        }
        SubjectKind kind;
        try {
            kind = SubjectKind.valueOf(s.path("kind").asText("").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.BAD_REQUEST, "subject.kind must be device, admin or service");
        }
        String id = requireText(s, "id", "subject.id");
        Set<String> roles = new LinkedHashSet<>();
        s.path("roles").forEach(r -> roles.add(r.asText()));
        Subject subject = new Subject(id, kind, roles, map(s.path("labels")), instantOrNull(s.path(
                "certificateNotBefore"), "subject.certificateNotBefore"));
        String action = requireText(root, "action", "action");
        JsonNode r = root.path("resource");
        Resource resource = r.isObject() ? new Resource(requireText(r, "id", "resource.id"),
                r.path("zone").isTextual() ? r.path("zone").asText() : null, map(r.path("labels")))
                : new Resource("~none", null, Map.of());
        String mode = root.path("siteMode").isTextual() ? root.path("siteMode").asText() : policies.siteMode();
        Instant at = instantOrNull(root.path("at"), "at");
        if (at == null) {
            at = policies.clock().instant();
        }
        AccessRequest request = new AccessRequest(subject, action, resource, new RequestContext(mode));
        Instant when = at;
        Explanation e = policies.explain(request, when).orElseThrow(() -> new GatewayException(Reason.CONFLICT,
                "no valid policy bundle at " + when + ": " + policies.problem()));
        PolicyService.Status st = policies.status();
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("decision", e.decision().effect().yamlName());
        n.put("ruleIds", e.decision().ruleIds());
        n.put("reason", e.decision().reason());
        n.put("at", when.toString());
        n.put("siteMode", mode);
        n.put("bundleVersion", st.active() == null ? 0 : st.active().version());
        List<Map<String, Object>> rules = new ArrayList<>();
        for (Explanation.RuleTrace t : e.rules()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", t.ruleId());
            m.put("effect", t.effect().yamlName());
            m.put("location", String.valueOf(t.location()));
            m.put("matched", t.matched());
            m.put("why", t.why());
            rules.add(m);
        }
        n.put("rules", rules);
        return n;
    }

    /** Live decisions recorded since {@code from}, in the JSON form the CLI's diff replays. */
    public List<Map<String, Object>> decisions(Instant from) throws StoreException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (DecisionLog.Entry e : log.since(from)) {
            out.add(toJson(e));
        }
        return out;
    }

    /** The JSON form of a recorded decision. */
    public static Map<String, Object> toJson(DecisionLog.Entry e) {
        Subject s = e.request().subject();
        Map<String, Object> subject = new LinkedHashMap<>();
        subject.put("kind", s.kind().name().toLowerCase(Locale.ROOT));
        subject.put("id", s.id());
        subject.put("roles", s.roles().stream().sorted().toList());
        subject.put("labels", s.labels());
        subject.put("certificateNotBefore", s.certificateNotBefore() == null ? null
                : s.certificateNotBefore().toString());
        Map<String, Object> resource = new LinkedHashMap<>();
        resource.put("id", e.request().resource().id());
        resource.put("zone", e.request().resource().zone());
        resource.put("labels", e.request().resource().labels());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", e.id());
        m.put("at", e.at().toString());
        m.put("subject", subject);
        m.put("action", e.request().action());
        m.put("resource", resource);
        m.put("siteMode", e.request().context().siteMode());
        m.put("effect", e.effect().yamlName());
        m.put("ruleIds", e.ruleIds());
        m.put("reason", e.reason());
        m.put("bundleVersion", e.bundleVersion());
        m.put("bundleDigest", e.bundleDigest());
        return m;
    }

    private static String requireText(JsonNode n, String key, String what) throws GatewayException {
        if (!n.path(key).isTextual() || n.path(key).asText().isEmpty()) {
            throw new GatewayException(Reason.BAD_REQUEST, what + " is required");
        }
        return n.path(key).asText();
    }

    private static Map<String, String> map(JsonNode n) {
        Map<String, String> m = new LinkedHashMap<>();
        if (n.isObject()) {
            n.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
        }
        return m;
    }

    private static Instant instantOrNull(JsonNode n, String what) throws GatewayException {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return null;
        }
        try {
            return java.time.OffsetDateTime.parse(n.asText()).toInstant();
        } catch (DateTimeParseException e) {
            throw new GatewayException(Reason.BAD_REQUEST, what + " must be an RFC 3339 time");
        }
    }
}
