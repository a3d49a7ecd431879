package dev.siteward.policies.diff;

import dev.siteward.policies.AccessRequest;
import dev.siteward.policies.Decision;
import dev.siteward.policies.NamePattern;
import dev.siteward.policies.PolicyRule;
import dev.siteward.policies.PolicySet;
import dev.siteward.policies.RateLimitState;
import dev.siteward.policies.RequestContext;
import dev.siteward.policies.Resource;
import dev.siteward.policies.Subject;
import dev.siteward.policies.SubjectKind;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Compares two policy sets: enumerates the subjects, actions and resources named in either and reports each
 * combination that becomes allowed or denied; and replays recorded decisions against a new set.
 *
 * <p>The enumeration uses representatives: every literal or wildcard name in a rule stands for itself (a wildcard
 * text such as {@code valve-*} matches exactly the patterns that cover it); a role, a device label selector and each
 * subject kind get a synthetic subject whose id starts with {@code ~} (which no rule can name), e.g.
 * {@code ~role:operator}. Each combination is decided in every site mode named in either bundle (plus
 * {@code normal}) and at every time-window boundary of a reference week (2026-01-05 to 2026-01-11, bundle zone),
 * which is exact for time windows because decisions only change at those boundaries. Certificates are taken as
 * fresh and rate limits as unused. Cost: subjects x actions x resources x modes x boundaries evaluations.
 */
public final class PolicyDiff {

    private static final LocalDate REFERENCE_MONDAY = LocalDate.of(2026, 1, 5);

    private PolicyDiff() {
    }

    /** Returns every combination newly allowed or newly denied by {@code newer} compared to {@code older}. */
    public static List<DiffEntry> compare(PolicySet older, PolicySet newer) {
        Set<Subject> subjects = new LinkedHashSet<>();
        Set<String> actions = new TreeSet<>();
        Set<Resource> resources = new LinkedHashSet<>();
        Set<String> modes = new TreeSet<>();
        Set<Instant> times = new TreeSet<>();
        modes.add(RequestContext.DEFAULT_SITE_MODE);
        for (SubjectKind k : SubjectKind.values()) {
            subjects.add(new Subject("~any-" + k.name().toLowerCase(java.util.Locale.ROOT), k, Set.of(), Map.of(),
                    null));
        }
        resources.add(new Resource("~any", null, Map.of()));
        times.add(REFERENCE_MONDAY.atStartOfDay(newer.timeZone()).toInstant());
        for (PolicySet set : List.of(older, newer)) {
            for (PolicyRule r : set.rules()) {
                collect(r, set.timeZone(), subjects, actions, resources, modes, times);
            }
        }
        int contexts = modes.size() * times.size();
        List<DiffEntry> out = new ArrayList<>();
        for (Subject s0 : subjects) {
            for (String a : actions) {
                for (Resource res : resources) {
                    DiffEntry allowed = null;
                    DiffEntry denied = null;
                    int nAllowed = 0;
                    int nDenied = 0;
                    for (String mode : modes) {
                        for (Instant t : times) {
                            Subject s = new Subject(s0.id(), s0.kind(), s0.roles(), s0.labels(), t);
                            AccessRequest req = new AccessRequest(s, a, res, new RequestContext(mode));
                            Decision o = older.evaluate(req, t, RateLimitState.NONE);
                            Decision n = newer.evaluate(req, t, RateLimitState.NONE);
                            if (o.effect() == n.effect()) {
                                continue;
                            }
                            if (n.allowed()) {
                                nAllowed++;
                                if (allowed == null) {
                                    allowed = new DiffEntry(DiffEntry.Change.NEWLY_ALLOWED, s0, a, res, mode, t, 0,
                                            contexts, n.ruleIds());
                                }
                            } else {
                                nDenied++;
                                if (denied == null) {
                                    denied = new DiffEntry(DiffEntry.Change.NEWLY_DENIED, s0, a, res, mode, t, 0,
                                            contexts, n.ruleIds());
                                }
                            }
                        }
                    }
                    if (allowed != null) {
                        out.add(withCount(allowed, nAllowed));
                    }
                    if (denied != null) {
                        out.add(withCount(denied, nDenied));
                    }
                }
            }
        }
        return out;
    }

    private static DiffEntry withCount(DiffEntry e, int n) {
        return new DiffEntry(e.change(), e.subject(), e.action(), e.resource(), e.exampleMode(), e.exampleTime(), n,
                e.contexts(), e.newRuleIds());
    }

    private static void collect(PolicyRule r, ZoneId zone, Set<Subject> subjects, Set<String> actions,
                                Set<Resource> resources, Set<String> modes, Set<Instant> times) {
        PolicyRule.Subjects sel = r.subjects();
        for (NamePattern p : sel.devices()) {
            subjects.add(new Subject(p.text(), SubjectKind.DEVICE, Set.of(), Map.of(), null));
        }
        for (NamePattern p : sel.admins()) {
            subjects.add(new Subject(p.text(), SubjectKind.ADMIN, Set.of(), Map.of(), null));
        }
        for (NamePattern p : sel.services()) {
            subjects.add(new Subject(p.text(), SubjectKind.SERVICE, Set.of(), Map.of(), null));
        }
        for (String role : new TreeSet<>(sel.roles())) {
            subjects.add(new Subject("~role:" + role, SubjectKind.ADMIN, Set.of(role), Map.of(), null));
        }
        if (!sel.deviceLabels().isEmpty()) {
            subjects.add(new Subject("~labelled:" + new java.util.TreeMap<>(sel.deviceLabels()), SubjectKind.DEVICE,
                    Set.of(), sel.deviceLabels(), null));
        }
        for (NamePattern p : r.actions()) {
            actions.add(p.text());
        }
        List<String> ids = r.resourceIds().isEmpty() ? List.of("~any") : r.resourceIds().stream()
                .map(NamePattern::text).toList();
        List<String> zones = new ArrayList<>();
        if (r.zones().isEmpty()) {
            zones.add(null);
        } else {
            r.zones().forEach(z -> zones.add(z.text()));
        }
        for (String id : ids) {
            for (String z : zones) {
                resources.add(new Resource(id, z, r.conditions().resourceLabels()));
            }
        }
        modes.addAll(r.conditions().siteModes());
        for (PolicyRule.TimeWindow w : r.conditions().timeWindows()) {
            for (DayOfWeek d : w.days()) {
                LocalDate day = REFERENCE_MONDAY.plusDays(d.getValue() - 1L);
                times.add(at(day, w.fromMinute(), zone));
                LocalDate endDay = w.toMinute() <= w.fromMinute() ? day.plusDays(1) : day;
                if (endDay.isAfter(REFERENCE_MONDAY.plusDays(6))) {
                    endDay = REFERENCE_MONDAY; // wraps from Sunday night into Monday morning of the same week
                }
                times.add(at(endDay, w.toMinute(), zone));
            }
        }
    }

    private static Instant at(LocalDate day, int minute, ZoneId zone) {
        if (minute >= 24 * 60) {
            return day.plusDays(1).atStartOfDay(zone).toInstant();
        }
        return day.atTime(LocalTime.of(minute / 60, minute % 60)).atZone(zone).toInstant();
    }

    /**
     * Replays recorded decisions against {@code newer} at their recorded times and returns those whose effect
     * would change (rate limits taken as unused).
     */
    public static List<ReplayChange> replay(Collection<RecordedDecision> recorded, PolicySet newer) {
        List<ReplayChange> out = new ArrayList<>();
        for (RecordedDecision r : recorded) {
            Decision now = newer.evaluate(r.request(), r.at(), RateLimitState.NONE);
            if (now.effect() != r.effect()) {
                out.add(new ReplayChange(r, now));
            }
        }
        return out;
    }
}
