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

    /** The rules for one action pattern, by subject key, plus those that cannot be keyed by subject. */
    private static final class Bucket {
        final Map<String, List<PolicyRule>> building = new HashMap<>();
        final List<PolicyRule> residualBuilding = new ArrayList<>();
        Map<String, PolicyRule[]> bySubject;
        PolicyRule[] residual;

        void freeze() {
            Map<String, PolicyRule[]> m = new HashMap<>(building.size() * 2);
            building.forEach((k, v) -> m.put(k, v.toArray(NO_RULES)));
            bySubject = m;
            residual = residualBuilding.toArray(NO_RULES);
        }
    }

    private final List<PolicyRule> rules;
    private final ZoneId timeZone;
    private final Map<String, Set<String>> labelVocabulary;
    private final Map<String, Bucket> byAction;
    private final boolean hasWildcardActions;
    private final boolean hasRateLimits;

    /**
     * Compiles and indexes rules; {@link PolicyLoader} is the normal way to obtain a set.
     *
     * @param rules           rules in bundle order, ids unique
     * @param timeZone        zone in which time windows are read
     * @param labelVocabulary declared label keys and allowed values (empty set = any value)
     */
    public PolicySet(List<PolicyRule> rules, ZoneId timeZone, Map<String, Set<String>> labelVocabulary) {
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
            List<String> subjectKeys = subjectKeys(r.subjects());
            for (NamePattern a : r.actions()) {
                wild |= a.prefix();
                Bucket b = index.computeIfAbsent(a.text(), k -> new Bucket());
                if (subjectKeys == null) {
                    b.residualBuilding.add(r);
                } else {
                    for (String k : subjectKeys) {
                        b.building.computeIfAbsent(k, x -> new ArrayList<>()).add(r);
                    }
                }
            }
        }
        index.values().forEach(Bucket::freeze);
        this.byAction = Map.copyOf(index);
        this.hasWildcardActions = wild;
        this.hasRateLimits = rated;
    }

    /** Returns the subject keys of a selector, or null when it must be checked for every subject. */
    private static List<String> subjectKeys(PolicyRule.Subjects s) {
        if (s.anyone()) {
            return null;
        }
        List<String> keys = new ArrayList<>();
        for (NamePattern p : s.devices()) {
            if (p.prefix()) {
                return null;
            }
            keys.add("d:" + p.literal());
        }
        for (NamePattern p : s.admins()) {
            if (p.prefix()) {
                return null;
            }
            keys.add("a:" + p.literal());
        }
        for (NamePattern p : s.services()) {
            if (p.prefix()) {
                return null;
            }
            keys.add("s:" + p.literal());
        }
        for (String role : s.roles()) {
            keys.add("r:" + role);
        }
        if (!s.deviceLabels().isEmpty()) {
            String k = Collections.min(s.deviceLabels().keySet());
            keys.add("l:" + k + '=' + s.deviceLabels().get(k));
        }
        return keys;
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
        List<PolicyRule> denies = null;
        List<PolicyRule> allows = null;
        PolicyRule nearMiss = null;
        PolicyRule.Outcome nearMissOutcome = null;
        String action = req.action();
        String[] subjectKeys = requestSubjectKeys(req.subject());
        // exact action, then "a.b.*", "a.*", "*"
        int end = action.length();
        String actionKey = action;
        while (true) {
            Bucket b = byAction.get(actionKey);
            if (b != null) {
                for (String sk : subjectKeys) {
                    PolicyRule[] rs = b.bySubject.get(sk);
                    if (rs == null) {
                        continue;
                    }
                    for (PolicyRule r : rs) {
                        PolicyRule.Outcome o = r.check(req, now, rates);
                        if (o == PolicyRule.Outcome.MATCH) {
                            if (r.effect() == Effect.DENY) {
                                denies = addOnce(denies, r);
                            } else {
                                allows = addOnce(allows, r);
                            }
                        } else if (o.ordinal() > PolicyRule.Outcome.RESOURCE.ordinal() && r.effect() == Effect.ALLOW
                                && nearMiss == null) {
                            nearMiss = r;
                            nearMissOutcome = o;
                        }
                    }
                }
                for (PolicyRule r : b.residual) {
                    PolicyRule.Outcome o = r.check(req, now, rates);
                    if (o == PolicyRule.Outcome.MATCH) {
                        if (r.effect() == Effect.DENY) {
                            denies = addOnce(denies, r);
                        } else {
                            allows = addOnce(allows, r);
                        }
                    } else if (o.ordinal() > PolicyRule.Outcome.RESOURCE.ordinal() && r.effect() == Effect.ALLOW
                            && nearMiss == null) {
                        nearMiss = r;
                        nearMissOutcome = o;
                    }
                }
            }
            if (!hasWildcardActions || end < 0) {
                break;
            }
            end = action.lastIndexOf('.', end - 1);
            actionKey = end < 0 ? "*" : action.substring(0, end + 1) + "*";
        }
        if (denies != null) {
            sort(denies);
            PolicyRule first = denies.get(0);
            return new Decision(Effect.DENY, ids(denies), "denied by rule '" + first.id() + "'"
                    + (first.description().isEmpty() ? "" : " (" + first.description() + ")")
                    + (denies.size() > 1 ? " and " + (denies.size() - 1) + " more deny rule(s)" : "")
                    + (allows != null ? "; deny overrides " + allows.size() + " matching allow rule(s)" : ""));
        }
        if (allows != null) {
            sort(allows);
            if (allowsOut != null) {
                allowsOut.addAll(allows);
            }
            PolicyRule first = allows.get(0);
            return new Decision(Effect.ALLOW, ids(allows), "allowed by rule '" + first.id() + "'"
                    + (first.description().isEmpty() ? "" : " (" + first.description() + ")"));
        }
        String reason = "no rule allows " + req.subject().describe() + " to '" + action + "' on "
                + req.resource().describe() + " (deny by default)";
        if (nearMiss != null) {
            reason += "; rule '" + nearMiss.id() + "' did not apply: " + nearMiss.describe(nearMissOutcome, req, now);
        }
        return new Decision(Effect.DENY, List.of(), reason);
    }

    private static String[] requestSubjectKeys(Subject s) {
        int n = 1 + s.roles().size() + (s.kind() == SubjectKind.DEVICE ? s.labels().size() : 0);
        String[] keys = new String[n];
        int i = 0;
        keys[i++] = switch (s.kind()) {
            case DEVICE -> "d:";
            case ADMIN -> "a:";
            case SERVICE -> "s:";
        } + s.id();
        for (String r : s.roles()) {
            keys[i++] = "r:" + r;
        }
        if (s.kind() == SubjectKind.DEVICE) {
            for (Map.Entry<String, String> e : s.labels().entrySet()) {
                keys[i++] = "l:" + e.getKey() + '=' + e.getValue();
            }
        }
        return keys;
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

    private static void sort(List<PolicyRule> rs) {
        if (rs.size() > 1) {
            rs.sort((x, y) -> Integer.compare(x.ordinal(), y.ordinal()));
        }
    }

    private static List<String> ids(List<PolicyRule> rs) {
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
