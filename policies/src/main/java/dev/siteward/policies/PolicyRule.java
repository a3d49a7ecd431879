package dev.siteward.policies;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.StringJoiner;

/**
 * One compiled rule of a policy set: who ({@link Subjects}), which actions, which resources, under which
 * {@link Conditions}, with which effect. Immutable.
 *
 * <p>A rule applies to a request when the action matches one of its action patterns, the subject matches its
 * subject selector, the resource matches its resource selector, and every condition holds.
 */
public final class PolicyRule {

    /**
     * Selects subjects; a subject is selected when it matches <em>any</em> of the listed selectors.
     *
     * @param anyone       every subject
     * @param devices      device id patterns (devices only)
     * @param deviceLabels labels a device must all carry (devices only; empty = not used)
     * @param admins       admin name patterns (admins only)
     * @param services     service name patterns (services only)
     * @param roles        roles, any one of which selects a subject of any kind
     */
    public record Subjects(boolean anyone, List<NamePattern> devices, Map<String, String> deviceLabels,
                           List<NamePattern> admins, List<NamePattern> services, Set<String> roles) {

        /** Copies the lists, maps and sets. */
        public Subjects {
            devices = List.copyOf(devices);
            deviceLabels = Map.copyOf(deviceLabels);
            admins = List.copyOf(admins);
            services = List.copyOf(services);
            roles = Set.copyOf(roles);
        }

        /** Returns true when {@code s} is selected. */
        public boolean matches(Subject s) {
            if (anyone) {
                return true;
            }
            switch (s.kind()) {
                case DEVICE -> {
                    if (anyMatch(devices, s.id())) {
                        return true;
                    }
                    if (!deviceLabels.isEmpty() && hasAll(s.labels(), deviceLabels)) {
                        return true;
                    }
                }
                case ADMIN -> {
                    if (anyMatch(admins, s.id())) {
                        return true;
                    }
                }
                case SERVICE -> {
                    if (anyMatch(services, s.id())) {
                        return true;
                    }
                }
                default -> throw new IllegalStateException("unknown kind " + s.kind());
            }
            if (!roles.isEmpty()) {
                for (String r : s.roles()) {
                    if (roles.contains(r)) {
                        return true;
                    }
                }
            }
            return false;
        }

        /** Renders the selector as in YAML, e.g. {@code devices [valve-*], roles [operator]}. */
        public String describe() {
            if (anyone) {
                return "anyone";
            }
            StringJoiner j = new StringJoiner(", ");
            if (!devices.isEmpty()) {
                j.add("devices " + devices);
            }
            if (!deviceLabels.isEmpty()) {
                j.add("deviceLabels " + deviceLabels);
            }
            if (!admins.isEmpty()) {
                j.add("admins " + admins);
            }
            if (!services.isEmpty()) {
                j.add("services " + services);
            }
            if (!roles.isEmpty()) {
                j.add("roles " + roles);
            }
            return j.toString();
        }
    }

    /**
     * A weekly time window read in the site's time zone: on each listed day, from {@code from} (inclusive) to
     * {@code to} (exclusive). When {@code to} is earlier than {@code from} the window runs overnight into the
     * next day; when they are equal the window is empty.
     *
     * @param days       days on which the window opens
     * @param fromMinute minute of day the window opens, 0..1439
     * @param toMinute   minute of day the window closes, 0..1440
     */
    public record TimeWindow(Set<DayOfWeek> days, int fromMinute, int toMinute) {

        /** Copies the days. */
        public TimeWindow {
            days = Set.copyOf(days);
        }

        /** Returns true when the window can never contain an instant (no day, or from equals to). */
        public boolean isEmpty() {
            return days.isEmpty() || fromMinute == toMinute;
        }

        /** Returns true when the local {@code day} and {@code minuteOfDay} fall inside this window. */
        public boolean contains(DayOfWeek day, int minuteOfDay) {
            if (fromMinute < toMinute) {
                return days.contains(day) && minuteOfDay >= fromMinute && minuteOfDay < toMinute;
            }
            if (fromMinute > toMinute) {
                return (days.contains(day) && minuteOfDay >= fromMinute)
                        || (days.contains(day.minus(1)) && minuteOfDay < toMinute);
            }
            return false;
        }

        @Override
        public String toString() {
            StringJoiner d = new StringJoiner(",");
            for (DayOfWeek w : DayOfWeek.values()) {
                if (days.contains(w)) {
                    d.add(w.name().substring(0, 3).toLowerCase(java.util.Locale.ROOT));
                }
            }
            return d + " " + hhmm(fromMinute) + "-" + hhmm(toMinute);
        }

        static String hhmm(int m) {
            return String.format(java.util.Locale.ROOT, "%02d:%02d", m / 60, m % 60);
        }
    }

    /**
     * At most {@code max} allowed uses per subject and action within any sliding {@code per}.
     *
     * @param max most uses
     * @param per window length
     */
    public record RateLimit(int max, Duration per) {
    }

    /**
     * Conditions that must all hold; an absent condition is {@code null} or empty.
     *
     * @param timeWindows       the request time must fall in one of these (empty = any time)
     * @param siteModes         the site mode must be one of these (empty = any mode)
     * @param certificateMaxAge the subject's certificate notBefore must be at most this old ({@code null} = unchecked)
     * @param rateLimit         uses per subject and action ({@code null} = unlimited)
     * @param resourceLabels    labels the resource must all carry (empty = unchecked)
     */
    public record Conditions(List<TimeWindow> timeWindows, Set<String> siteModes, Duration certificateMaxAge,
                             RateLimit rateLimit, Map<String, String> resourceLabels) {

        /** No conditions. */
        public static final Conditions NONE = new Conditions(List.of(), Set.of(), null, null, Map.of());

        /** Copies the lists, sets and maps. */
        public Conditions {
            timeWindows = List.copyOf(timeWindows);
            siteModes = Set.copyOf(siteModes);
            resourceLabels = Map.copyOf(resourceLabels);
        }

        /** Returns true when no condition is set. */
        public boolean isEmpty() {
            return timeWindows.isEmpty() && siteModes.isEmpty() && certificateMaxAge == null && rateLimit == null
                    && resourceLabels.isEmpty();
        }
    }

    /** Why a rule does or does not apply; the order is the order of the checks. */
    enum Outcome {
        MATCH, ACTION, SUBJECT, RESOURCE, TIME, SITE_MODE, CERTIFICATE, RESOURCE_LABELS, RATE_LIMIT
    }

    /** The request time in the site's zone, computed at most once per request. */
    static final class Moment {
        final Instant instant;
        private final ZoneId zone;
        private DayOfWeek day;
        private int minute = -1;

        Moment(Instant instant, ZoneId zone) {
            this.instant = instant;
            this.zone = zone;
        }

        DayOfWeek day() {
            resolve();
            return day;
        }

        int minute() {
            resolve();
            return minute;
        }

        private void resolve() {
            if (minute < 0) {
                ZonedDateTime z = instant.atZone(zone);
                day = z.getDayOfWeek();
                minute = z.getHour() * 60 + z.getMinute();
            }
        }
    }

    private final int ordinal;
    private final String id;
    private final String description;
    private final Effect effect;
    private final SourceLocation location;
    private final Subjects subjects;
    private final List<NamePattern> actions;
    private final List<NamePattern> resourceIds;
    private final List<NamePattern> zones;
    private final Conditions conditions;
    private final List<String> idAsList;
    private final String decisionReason;

    /** Creates a rule; {@code ordinal} is its position in the bundle (file order, then position in file). */
    public PolicyRule(int ordinal, String id, String description, Effect effect, SourceLocation location,
                      Subjects subjects, List<NamePattern> actions, List<NamePattern> resourceIds,
                      List<NamePattern> zones, Conditions conditions) {
        this.ordinal = ordinal;
        this.id = Objects.requireNonNull(id, "id");
        this.description = description == null ? "" : description;
        this.effect = Objects.requireNonNull(effect, "effect");
        this.location = Objects.requireNonNull(location, "location");
        this.subjects = Objects.requireNonNull(subjects, "subjects");
        this.actions = List.copyOf(actions);
        this.resourceIds = List.copyOf(resourceIds);
        this.zones = List.copyOf(zones);
        this.conditions = Objects.requireNonNull(conditions, "conditions");
        this.idAsList = List.of(id);
        this.decisionReason = (effect == Effect.ALLOW ? "allowed" : "denied") + " by rule '" + id + "'"
                + (this.description.isEmpty() ? "" : " (" + this.description + ")");
    }

    /** Returns {@code List.of(id())}, computed once. */
    List<String> idAsList() {
        return idAsList;
    }

    /** Returns e.g. {@code allowed by rule 'x' (description)}, computed once. */
    String decisionReason() {
        return decisionReason;
    }

    /** Returns the position of this rule in the bundle, from 0. */
    public int ordinal() {
        return ordinal;
    }

    /** Returns the rule id, unique in the bundle. */
    public String id() {
        return id;
    }

    /** Returns the description ({@code ""} when none). */
    public String description() {
        return description;
    }

    /** Returns allow or deny. */
    public Effect effect() {
        return effect;
    }

    /** Returns where the rule is written. */
    public SourceLocation location() {
        return location;
    }

    /** Returns the subject selector. */
    public Subjects subjects() {
        return subjects;
    }

    /** Returns the action patterns (at least one). */
    public List<NamePattern> actions() {
        return actions;
    }

    /** Returns the resource id patterns (empty = any id). */
    public List<NamePattern> resourceIds() {
        return resourceIds;
    }

    /** Returns the zone patterns (empty = any zone, including none). */
    public List<NamePattern> zones() {
        return zones;
    }

    /** Returns the conditions. */
    public Conditions conditions() {
        return conditions;
    }

    /** Returns true when {@code action} matches one of the action patterns. */
    public boolean matchesAction(String action) {
        return anyMatch(actions, action);
    }

    /** Returns true when the resource matches the id and zone patterns (conditions aside). */
    public boolean matchesResource(Resource r) {
        if (!resourceIds.isEmpty() && !anyMatch(resourceIds, r.id())) {
            return false;
        }
        return zones.isEmpty() || (r.zone() != null && anyMatch(zones, r.zone()));
    }

    /** Returns the key under which rate-limit uses of this rule by a subject for an action are counted. */
    String rateKey(AccessRequest req) {
        return id + '\n' + req.subject().kind() + ':' + req.subject().id() + '\n' + req.action();
    }

    Outcome check(AccessRequest req, Moment now, RateLimitState rates) {
        if (!matchesAction(req.action())) {
            return Outcome.ACTION;
        }
        if (!subjects.matches(req.subject())) {
            return Outcome.SUBJECT;
        }
        if (!matchesResource(req.resource())) {
            return Outcome.RESOURCE;
        }
        return checkConditions(req, now, rates);
    }

    Outcome checkConditions(AccessRequest req, Moment now, RateLimitState rates) {
        Conditions c = conditions;
        if (!c.timeWindows.isEmpty() && !inWindow(now)) {
            return Outcome.TIME;
        }
        if (!c.siteModes.isEmpty() && !c.siteModes.contains(req.context().siteMode())) {
            return Outcome.SITE_MODE;
        }
        if (c.certificateMaxAge != null) {
            Instant nb = req.subject().certificateNotBefore();
            if (nb == null || nb.isBefore(now.instant.minus(c.certificateMaxAge))) {
                return Outcome.CERTIFICATE;
            }
        }
        if (!c.resourceLabels.isEmpty() && !hasAll(req.resource().labels(), c.resourceLabels)) {
            return Outcome.RESOURCE_LABELS;
        }
        if (c.rateLimit != null
                && rates.recentCount(rateKey(req), now.instant, c.rateLimit.per()) >= c.rateLimit.max()) {
            return Outcome.RATE_LIMIT;
        }
        return Outcome.MATCH;
    }

    private boolean inWindow(Moment now) {
        DayOfWeek d = now.day();
        int m = now.minute();
        for (TimeWindow w : conditions.timeWindows) {
            if (w.contains(d, m)) {
                return true;
            }
        }
        return false;
    }

    /** Explains an outcome in words for this rule and request. */
    String describe(Outcome o, AccessRequest req, Moment now) {
        return switch (o) {
            case MATCH -> "matches";
            case ACTION -> "action '" + req.action() + "' is not in " + actions;
            case SUBJECT -> req.subject().describe() + " is not selected by " + subjects.describe();
            case RESOURCE -> "resource " + req.resource().describe() + " is not selected by "
                    + (resourceIds.isEmpty() ? "" : "ids " + resourceIds) + (resourceIds.isEmpty() || zones.isEmpty()
                    ? "" : ", ") + (zones.isEmpty() ? "" : "zones " + zones);
            case TIME -> "the time " + now.day().name().substring(0, 3).toLowerCase(java.util.Locale.ROOT) + " "
                    + TimeWindow.hhmm(now.minute()) + " is outside " + conditions.timeWindows;
            case SITE_MODE -> "site mode '" + req.context().siteMode() + "' is not in " + conditions.siteModes;
            case CERTIFICATE -> req.subject().certificateNotBefore() == null
                    ? "the subject's certificate age is unknown (certificateMaxAge " + conditions.certificateMaxAge + ")"
                    : "the subject's certificate (notBefore " + req.subject().certificateNotBefore()
                    + ") is older than " + conditions.certificateMaxAge;
            case RESOURCE_LABELS -> "resource labels " + req.resource().labels() + " lack " + conditions.resourceLabels;
            case RATE_LIMIT -> "rate limit of " + conditions.rateLimit.max() + " per " + conditions.rateLimit.per()
                    + " is used up for " + req.subject().describe() + " and '" + req.action() + "'";
        };
    }

    static boolean anyMatch(List<NamePattern> patterns, String name) {
        for (int i = 0, n = patterns.size(); i < n; i++) {
            if (patterns.get(i).matches(name)) {
                return true;
            }
        }
        return false;
    }

    static boolean hasAll(Map<String, String> have, Map<String, String> want) {
        for (Map.Entry<String, String> e : want.entrySet()) {
            if (!e.getValue().equals(have.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return id + " (" + effect.yamlName() + ", " + location + ")";
    }
}
