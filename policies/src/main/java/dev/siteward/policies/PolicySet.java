package dev.siteward.policies;

import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An immutable, compiled and indexed set of rules that decides requests: deny overrides allow, and without a
 * matching allow rule the answer is deny.
 *
 * <p>Rules are indexed by action (exact name, or wildcard prefix looked up segment by segment) and then by subject
 * key (device id, admin or service name, role, one device label); only the few candidate rules found are checked in
 * full, so the cost of a decision depends on the rules relevant to the request, not on the size of the set. Rules
 * whose subjects use a wildcard or {@code anyone} are checked for every request with a matching action.
 *
 * <p>Instances come from {@link PolicyLoader} and are safe to share between threads.
 */
public final class PolicySet {

    private static final PolicyRule[] NO_RULES = new PolicyRule[0];

    /**
     * The rules for one action pattern, keyed by one subject selector each (device id, admin name, service name,
     * role, one device label), plus those that cannot be keyed (wildcard subjects, {@code anyone}).
     */
    private static final class Bucket {
        final Map<String, List<PolicyRule>> devicesB = new HashMap<>();
        final Map<String, List<PolicyRule>> adminsB = new HashMap<>();
        final Map<String, List<PolicyRule>> servicesB = new HashMap<>();
        final Map<String, List<PolicyRule>> rolesB = new HashMap<>();
        final Map<String, List<PolicyRule>> labelsB = new HashMap<>();
        final List<PolicyRule> residualB = new ArrayList<>();
        Map<String, PolicyRule[]> devices;
        Map<String, PolicyRule[]> admins;
        Map<String, PolicyRule[]> services;
        Map<String, PolicyRule[]> roles;
        /** Keyed by label key, then value. */
        Map<String, Map<String, PolicyRule[]>> labels;
        PolicyRule[] residual;

        void add(PolicyRule r) {
            PolicyRule.Subjects s = r.subjects();
            boolean wildcard = s.anyone() || s.devices().stream().anyMatch(NamePattern::prefix)
                    || s.admins().stream().anyMatch(NamePattern::prefix)
                    || s.services().stream().anyMatch(NamePattern::prefix);
            if (wildcard) {
                residualB.add(r);
                return;
            }
            s.devices().forEach(p -> devicesB.computeIfAbsent(p.literal(), k -> new ArrayList<>()).add(r));
            s.admins().forEach(p -> adminsB.computeIfAbsent(p.literal(), k -> new ArrayList<>()).add(r));
            s.services().forEach(p -> servicesB.computeIfAbsent(p.literal(), k -> new ArrayList<>()).add(r));
            s.roles().forEach(role -> rolesB.computeIfAbsent(role, k -> new ArrayList<>()).add(r));
            if (!s.deviceLabels().isEmpty()) {
                String k = Collections.min(s.deviceLabels().keySet());
                labelsB.computeIfAbsent(k + '=' + s.deviceLabels().get(k), x -> new ArrayList<>()).add(r);
            }
        }

        void freeze() {
            devices = freeze(devicesB);
            admins = freeze(adminsB);
            services = freeze(servicesB);
            roles = freeze(rolesB);
            Map<String, Map<String, PolicyRule[]>> byKey = new HashMap<>();
            labelsB.forEach((kv, rs) -> {
                int eq = kv.indexOf('=');
                byKey.computeIfAbsent(kv.substring(0, eq), x -> new HashMap<>())
                        .put(kv.substring(eq + 1), rs.toArray(NO_RULES));
            });
            labels = byKey;
            residual = residualB.toArray(NO_RULES);
        }

        private static Map<String, PolicyRule[]> freeze(Map<String, List<PolicyRule>> m) {
            Map<String, PolicyRule[]> out = new HashMap<>(Math.max(4, m.size() * 2));
            m.forEach((k, v) -> out.put(k, v.toArray(NO_RULES)));
            return out;
        }
    }

    /** Collects the rules that apply to one request. */
    private static final class Matches {
        List<PolicyRule> denies;
        List<PolicyRule> allows;
        PolicyRule nearMiss;
        PolicyRule.Outcome nearMissOutcome;

        void check(PolicyRule[] rs, AccessRequest req, PolicyRule.Moment now, RateLimitState rates) {
            if (rs == null) {
                return;
            }
            for (PolicyRule r : rs) {
                PolicyRule.Outcome o = r.check(req, now, rates);
                if (o == PolicyRule.Outcome.MATCH) {
                    if (r.effect() == Effect.DENY) {
                        denies = addOnce(denies, r);
                    } else {
                        allows = addOnce(allows, r);
                    }
                } else if (nearMiss == null && r.effect() == Effect.ALLOW
                        && o.ordinal() > PolicyRule.Outcome.RESOURCE.ordinal()) {
                    nearMiss = r;
                    nearMissOutcome = o;
                }
            }
        }
    }

    private final List<PolicyRule> rules;
    private final ZoneId timeZone;
    private final Map<String, Set<String>> labelVocabulary;
    private final Map<String, Bucket> byAction;
    private final boolean hasWildcardActions;
    private final boolean hasRateLimits;
    private final dev.siteward.policies.retention.RetentionRules retention;

    /**
     * Compiles and indexes rules; {@link PolicyLoader} is the normal way to obtain a set.
     *
     * @param rules           rules in bundle order, ids unique
     * @param timeZone        zone in which time windows are read
     * @param labelVocabulary declared label keys and allowed values (empty set = any value)
     */
    public PolicySet(List<PolicyRule> rules, ZoneId timeZone, Map<String, Set<String>> labelVocabulary) {
        this(rules, timeZone, labelVocabulary, dev.siteward.policies.retention.RetentionRules.NONE);
    }

    /** Compiles and indexes rules, with the bundle's retention rules (docs/retention.md). */
    public PolicySet(List<PolicyRule> rules, ZoneId timeZone, Map<String, Set<String>> labelVocabulary,
                     dev.siteward.policies.retention.RetentionRules retention) {
        this.retention = retention;
        this.rules = List.copyOf(rules);
        this.timeZone = timeZone;
        Map<String, Set<String>> vocab = new HashMap<>();
        labelVocabulary.forEach((k, v) -> vocab.put(k, Set.copyOf(v)));
        this.labelVocabulary = Collections.unmodifiableMap(vocab);
        Map<String, Bucket> index = new HashMap<>();
        boolean wild = false;
        boolean rated = false;
        for (PolicyRule r : this.rules) {
            rated |= r.conditions().rateLimit() != null;
            for (NamePattern a : r.actions()) {
                wild |= a.prefix();
                index.computeIfAbsent(a.text(), k -> new Bucket()).add(r);
            }
        }
        index.values().forEach(Bucket::freeze);
        this.byAction = Map.copyOf(index);
        this.hasWildcardActions = wild;
        this.hasRateLimits = rated;
    }

    /** The bundle's retention rules; {@link dev.siteward.policies.retention.RetentionRules#NONE} without any. */
    public dev.siteward.policies.retention.RetentionRules retention() {
        return retention;
    }

    /** Returns all rules in bundle order. */
    public List<PolicyRule> rules() {
        return rules;
    }

    /** Returns the zone in which time windows are read. */
    public ZoneId timeZone() {
        return timeZone;
    }

    /** Returns the declared label vocabulary: key to allowed values (an empty set allows any value). */
    public Map<String, Set<String>> labelVocabulary() {
        return labelVocabulary;
    }

    /** Returns true when some rule has a rate limit (so decisions read and update rate state). */
    public boolean hasRateLimits() {
        return hasRateLimits;
    }

    /**
     * Decides a request at {@code now}, reading (never updating) rate-limit state; see {@link PolicyDecider} for
     * the variant that records uses.
     */
    public Decision evaluate(AccessRequest request, Instant now, RateLimitState rates) {
        return evaluate(request, new PolicyRule.Moment(now, timeZone), rates, null);
    }

    Decision evaluate(AccessRequest req, PolicyRule.Moment now, RateLimitState rates, List<PolicyRule> allowsOut) {
        Matches m = new Matches();
        String action = req.action();
        Subject subject = req.subject();
        // exact action, then "a.b.*", "a.*", "*"
        int end = action.length();
        String actionKey = action;
        while (true) {
            Bucket b = byAction.get(actionKey);
            if (b != null) {
                switch (subject.kind()) {
                    case DEVICE -> {
                        m.check(b.devices.get(subject.id()), req, now, rates);
                        if (!b.labels.isEmpty()) {
                            for (Map.Entry<String, String> e : subject.labels().entrySet()) {
                                Map<String, PolicyRule[]> byValue = b.labels.get(e.getKey());
                                if (byValue != null) {
                                    m.check(byValue.get(e.getValue()), req, now, rates);
                                }
                            }
                        }
                    }
                    case ADMIN -> m.check(b.admins.get(subject.id()), req, now, rates);
                    case SERVICE -> m.check(b.services.get(subject.id()), req, now, rates);
                    default -> throw new IllegalStateException("unknown kind " + subject.kind());
                }
                if (!b.roles.isEmpty()) {
                    for (String role : subject.roles()) {
                        m.check(b.roles.get(role), req, now, rates);
                    }
                }
                m.check(b.residual, req, now, rates);
            }
            if (!hasWildcardActions || end < 0) {
                break;
            }
            end = action.lastIndexOf('.', end - 1);
            actionKey = end < 0 ? "*" : action.substring(0, end + 1) + "*";
        }
        return decide(req, now, m, allowsOut);
    }

    private static Decision decide(AccessRequest req, PolicyRule.Moment now, Matches m, List<PolicyRule> allowsOut) {
        List<PolicyRule> denies = m.denies;
        List<PolicyRule> allows = m.allows;
        if (denies != null) {
            PolicyRule first = sort(denies).get(0);
            if (denies.size() == 1 && allows == null) {
                return new Decision(Effect.DENY, first.idAsList(), first.decisionReason());
            }
            return new Decision(Effect.DENY, ids(denies), first.decisionReason()
                    + (denies.size() > 1 ? " and " + (denies.size() - 1) + " more deny rule(s)" : "")
                    + (allows != null ? "; deny overrides " + allows.size() + " matching allow rule(s)" : ""));
        }
        if (allows != null) {
            sort(allows);
            if (allowsOut != null) {
                allowsOut.addAll(allows);
            }
            if (allows.size() == 1) {
                return new Decision(Effect.ALLOW, allows.get(0).idAsList(), allows.get(0).decisionReason());
            }
            return new Decision(Effect.ALLOW, ids(allows), allows.get(0).decisionReason());
        }
        String reason = "no rule allows " + req.subject().describe() + " to '" + req.action() + "' on "
                + req.resource().describe() + " (deny by default)";
        if (m.nearMiss != null) {
            reason += "; rule '" + m.nearMiss.id() + "' did not apply: "
                    + m.nearMiss.describe(m.nearMissOutcome, req, now);
        }
        return new Decision(Effect.DENY, List.of(), reason);
    }

    private static List<PolicyRule> addOnce(List<PolicyRule> list, PolicyRule r) {
        if (list == null) {
            list = new ArrayList<>(2);
        } else if (list.contains(r)) {
            return list;
        }
        list.add(r);
        return list;
    }

    private static List<PolicyRule> sort(List<PolicyRule> rs) {
        if (rs.size() > 1) {
            rs.sort((x, y) -> Integer.compare(x.ordinal(), y.ordinal()));
        }
        return rs;
    }

    private static List<String> ids(List<PolicyRule> rs) {
        sort(rs);
        String[] ids = new String[rs.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rs.get(i).id();
        }
        return List.of(ids);
    }

    /**
     * Decides a request at {@code now} without using the index and reports, for every rule, whether it applied and
     * if not the first check that failed. Rate limits are read from {@code rates}, never updated.
     */
    public Explanation explain(AccessRequest request, Instant now, RateLimitState rates) {
        PolicyRule.Moment m = new PolicyRule.Moment(now, timeZone);
        List<Explanation.RuleTrace> traces = new ArrayList<>(rules.size());
        for (PolicyRule r : rules) {
            PolicyRule.Outcome o = r.check(request, m, rates);
            traces.add(new Explanation.RuleTrace(r.id(), r.effect(), r.location(), o == PolicyRule.Outcome.MATCH,
                    r.describe(o, request, m)));
        }
        return new Explanation(evaluate(request, m, rates, null), traces);
    }

    /**
     * Decides a request by checking every rule in order, without the index; same answer as
     * {@link #evaluate(AccessRequest, Instant, RateLimitState)}, kept as the reference and benchmark baseline.
     */
    public Effect evaluateByScan(AccessRequest request, Instant now, RateLimitState rates) {
        PolicyRule.Moment m = new PolicyRule.Moment(now, timeZone);
        boolean allow = false;
        for (PolicyRule r : rules) {
            if (r.check(request, m, rates) == PolicyRule.Outcome.MATCH) {
                if (r.effect() == Effect.DENY) {
                    return Effect.DENY;
                }
                allow = true;
            }
        }
        return allow ? Effect.ALLOW : Effect.DENY;
    }
}
