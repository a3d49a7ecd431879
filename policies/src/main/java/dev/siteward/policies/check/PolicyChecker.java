package dev.siteward.policies.check;

import dev.siteward.policies.Effect;
import dev.siteward.policies.NamePattern;
import dev.siteward.policies.PolicyException;
import dev.siteward.policies.PolicyLoader;
import dev.siteward.policies.PolicyRule;
import dev.siteward.policies.PolicySet;
import dev.siteward.policies.SiteConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a bundle: first that it loads (every {@code policy.*} problem becomes an error finding), then lints it.
 *
 * <p>Lint codes:
 * <ul>
 *   <li>{@code lint.shadowed}: an allow rule every request of which is also matched by an unconditional-enough deny
 *       rule, so it can never allow;</li>
 *   <li>{@code lint.redundant}: a rule fully covered by an earlier rule with the same effect;</li>
 *   <li>{@code lint.never_matches}: a rule that cannot apply (only empty time windows, a rate limit of 0, a
 *       certificate max age of 0);</li>
 *   <li>{@code lint.empty_time_window}: one of several time windows is empty;</li>
 *   <li>{@code lint.unknown_label}: a label key or value not declared in the bundle's {@code labels:}
 *       vocabulary.</li>
 * </ul>
 * Coverage is decided conservatively (a finding means the covering is certain; rules with rate limits never cover).
 */
public final class PolicyChecker {

    private PolicyChecker() {
    }

    /** Loads and lints the bundle in {@code dir}; never throws for bad policy content. */
    public static CheckResult check(Path dir, SiteConfig site) {
        PolicySet set;
        try {
            set = PolicyLoader.load(dir, site);
        } catch (PolicyException e) {
            List<Finding> errors = new ArrayList<>();
            for (PolicyException.Problem p : e.problems()) {
                errors.add(new Finding(p.code(), Severity.ERROR, p.location(), null, p.message()));
            }
            return new CheckResult(errors, true);
        }
        return new CheckResult(lint(set), false);
    }

    /** Returns the lint findings of a loaded set, in rule order. */
    public static List<Finding> lint(PolicySet set) {
        List<Finding> out = new ArrayList<>();
        List<PolicyRule> rules = set.rules();
        for (int i = 0; i < rules.size(); i++) {
            PolicyRule b = rules.get(i);
            String never = neverMatches(b);
            if (never != null) {
                out.add(finding("lint.never_matches", b, "rule '" + b.id() + "' can never match: " + never));
                continue;
            }
            List<PolicyRule.TimeWindow> windows = b.conditions().timeWindows();
            for (int w = 0; w < windows.size(); w++) {
                if (windows.get(w).isEmpty()) {
                    out.add(finding("lint.empty_time_window", b, "time window #" + (w + 1) + " (" + windows.get(w)
                            + ") of rule '" + b.id() + "' is empty"));
                }
            }
            unknownLabels(set.labelVocabulary(), b, b.subjects().deviceLabels(), "device label", out);
            unknownLabels(set.labelVocabulary(), b, b.conditions().resourceLabels(), "resource label", out);
            if (b.effect() == Effect.ALLOW) {
                for (PolicyRule a : rules) {
                    if (a.effect() == Effect.DENY && neverMatches(a) == null && covers(a, b)) {
                        out.add(finding("lint.shadowed", b, "allow rule '" + b.id() + "' can never allow: every "
                                + "request it matches is denied by rule '" + a.id() + "' (" + a.location() + ")"));
                        break;
                    }
                }
            }
            for (int j = 0; j < i; j++) {
                PolicyRule a = rules.get(j);
                if (a.effect() == b.effect() && neverMatches(a) == null && covers(a, b)) {
                    out.add(finding("lint.redundant", b, "rule '" + b.id() + "' is covered by the earlier rule '"
                            + a.id() + "' (" + a.location() + ") with the same effect"));
                    break;
                }
            }
        }
        return out;
    }

    private static Finding finding(String code, PolicyRule r, String message) {
        return new Finding(code, Severity.WARNING, r.location(), r.id(), message);
    }

    private static String neverMatches(PolicyRule r) {
        PolicyRule.Conditions c = r.conditions();
        if (!c.timeWindows().isEmpty() && c.timeWindows().stream().allMatch(PolicyRule.TimeWindow::isEmpty)) {
            return "every time window is empty " + c.timeWindows();
        }
        if (c.rateLimit() != null && c.rateLimit().max() == 0) {
            return "its rate limit allows 0 uses";
        }
        if (c.certificateMaxAge() != null && c.certificateMaxAge().isZero()) {
            return "certificateMaxAge is 0, no certificate is that fresh";
        }
        return null;
    }

    private static void unknownLabels(Map<String, Set<String>> vocab, PolicyRule r, Map<String, String> labels,
                                      String what, List<Finding> out) {
        labels.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            Set<String> allowed = vocab.get(e.getKey());
            if (allowed == null) {
                out.add(finding("lint.unknown_label", r, what + " key '" + e.getKey() + "' in rule '" + r.id()
                        + "' is not declared under labels: " + vocab.keySet()));
            } else if (!allowed.isEmpty() && !allowed.contains(e.getValue())) {
                out.add(finding("lint.unknown_label", r, what + " '" + e.getKey() + "=" + e.getValue() + "' in rule '"
                        + r.id() + "' is not declared; allowed values: " + allowed));
            }
        });
    }

    /** Returns true when every request matched by {@code b} is certainly matched by {@code a}. */
    static boolean covers(PolicyRule a, PolicyRule b) {
        if (a == b) {
            return false;
        }
        return patternsCover(a.actions(), b.actions(), false)
                && subjectsCover(a.subjects(), b.subjects())
                && patternsCover(a.resourceIds(), b.resourceIds(), true)
                && patternsCover(a.zones(), b.zones(), true)
                && conditionsCover(a.conditions(), b.conditions());
    }

    /** True when each pattern of {@code b} is covered by one of {@code a}; an empty list means "any" if allowed. */
    private static boolean patternsCover(List<NamePattern> a, List<NamePattern> b, boolean emptyMeansAny) {
        if (emptyMeansAny && a.isEmpty()) {
            return true;
        }
        if (emptyMeansAny && b.isEmpty()) {
            return a.stream().anyMatch(p -> p.prefix() && p.literal().isEmpty());
        }
        for (NamePattern p : b) {
            if (a.stream().noneMatch(q -> q.covers(p))) {
                return false;
            }
        }
        return true;
    }

    private static boolean subjectsCover(PolicyRule.Subjects a, PolicyRule.Subjects b) {
        if (a.anyone()) {
            return true;
        }
        if (b.anyone()) {
            return false;
        }
        boolean allDevices = a.devices().stream().anyMatch(p -> p.prefix() && p.literal().isEmpty());
        for (NamePattern p : b.devices()) {
            if (a.devices().stream().noneMatch(q -> q.covers(p))) {
                return false;
            }
        }
        if (!b.deviceLabels().isEmpty() && !allDevices && (a.deviceLabels().isEmpty()
                || !b.deviceLabels().entrySet().containsAll(a.deviceLabels().entrySet()))) {
            return false;
        }
        for (NamePattern p : b.admins()) {
            if (a.admins().stream().noneMatch(q -> q.covers(p))) {
                return false;
            }
        }
        for (NamePattern p : b.services()) {
            if (a.services().stream().noneMatch(q -> q.covers(p))) {
                return false;
            }
        }
        return a.roles().containsAll(b.roles());
    }

    private static boolean conditionsCover(PolicyRule.Conditions a, PolicyRule.Conditions b) {
        if (a.rateLimit() != null) {
            return false;
        }
        if (!a.timeWindows().isEmpty() && !Set.copyOf(a.timeWindows()).containsAll(b.timeWindows())
                || !a.timeWindows().isEmpty() && b.timeWindows().isEmpty()) {
            return false;
        }
        if (!a.siteModes().isEmpty() && (b.siteModes().isEmpty() || !a.siteModes().containsAll(b.siteModes()))) {
            return false;
        }
        Duration aAge = a.certificateMaxAge();
        if (aAge != null && (b.certificateMaxAge() == null || b.certificateMaxAge().compareTo(aAge) > 0)) {
            return false;
        }
        return b.resourceLabels().entrySet().containsAll(a.resourceLabels().entrySet());
    }
}
