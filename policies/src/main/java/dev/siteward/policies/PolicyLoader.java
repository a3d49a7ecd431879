package dev.siteward.policies;

import com.fasterxml.jackson.databind.JsonNode;
import dev.siteward.policies.PolicyException.Problem;
import dev.siteward.policies.PolicyException.Reason;
import dev.siteward.policies.internal.SchemaValidation;
import dev.siteward.policies.internal.YamlDocument;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Loads a directory of policy files into a compiled, immutable {@link PolicySet}, or throws a
 * {@link PolicyException} listing every problem found; it never returns a partial set.
 *
 * <p>A bundle directory holds policy files ({@code *.yaml} / {@code *.yml}, read in file-name order; rules keep that
 * order). Subdirectories, such as {@code tests/}, are not read. Each file is parsed with source locations, checked
 * against {@code policy-v1.schema.json} (unknown keys refused) and then checked for what a schema cannot express:
 * wildcards, time zones, times of day, unique rule ids across files, one site time zone.
 */
public final class PolicyLoader {

    private static final Pattern ACTION = Pattern.compile("\\*|[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*(\\.\\*)?");
    private static final Pattern NAME = Pattern.compile("\\*|[A-Za-z0-9._:@/-]+\\*?");
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9._:@/-]+");
    private static final List<String> DAYS = List.of("mon", "tue", "wed", "thu", "fri", "sat", "sun");

    private PolicyLoader() {
    }

    /**
     * Loads every policy file directly in {@code dir}; {@code site} gives the time zone unless a file declares
     * {@code site.timeZone}.
     *
     * @throws PolicyException with every problem found; nothing is returned unless the whole bundle is valid
     */
    public static PolicySet load(Path dir, SiteConfig site) {
        return load(policyFiles(dir), site);
    }

    /** Loads the given policy files as one bundle, in the given order; see {@link #load(Path, SiteConfig)}. */
    public static PolicySet load(List<Path> files, SiteConfig site) {
        List<Problem> problems = new ArrayList<>();
        List<PolicyRule> rules = new ArrayList<>();
        Map<String, PolicyRule> byId = new HashMap<>();
        Map<String, Set<String>> vocabulary = new LinkedHashMap<>();
        ZoneId zone = null;
        SourceLocation zoneAt = null;
        if (files.isEmpty()) {
            throw new PolicyException(Reason.EMPTY_BUNDLE, SourceLocation.of(Path.of(".")), "no policy files");
        }
        for (Path file : files) {
            YamlDocument doc;
            try {
                doc = YamlDocument.read(file);
            } catch (PolicyException e) {
                problems.addAll(e.problems());
                continue;
            }
            List<Problem> schemaProblems = SchemaValidation.POLICY.validate(doc);
            if (!schemaProblems.isEmpty()) {
                problems.addAll(schemaProblems);
                continue;
            }
            FileReader r = new FileReader(doc, problems);
            JsonNode tz = doc.root().path("site").path("timeZone");
            if (tz.isTextual()) {
                ZoneId z = r.zone(tz.asText(), "/site/timeZone");
                if (z != null && zone != null && !zone.equals(z)) {
                    problems.add(new Problem(Reason.SITE_CONFLICT, doc.at("/site/timeZone"), "time zone " + z
                            + " conflicts with " + zone + " declared at " + zoneAt));
                } else if (z != null) {
                    zone = z;
                    zoneAt = doc.at("/site/timeZone");
                }
            }
            doc.root().path("labels").properties().forEach(e -> {
                Set<String> values = vocabulary.computeIfAbsent(e.getKey(), k -> new LinkedHashSet<>());
                if (e.getValue().isEmpty()) {
                    values.add("*");
                }
                e.getValue().forEach(v -> values.add(v.asText()));
            });
            JsonNode ruleNodes = doc.root().path("rules");
            for (int i = 0; i < ruleNodes.size(); i++) {
                PolicyRule rule = r.rule(ruleNodes.get(i), "/rules/" + i, rules.size());
                if (rule == null) {
                    continue;
                }
                PolicyRule first = byId.putIfAbsent(rule.id(), rule);
                if (first != null) {
                    problems.add(new Problem(Reason.DUPLICATE_ID, doc.at("/rules/" + i + "/id"), "duplicate rule id '"
                            + rule.id() + "', first defined at " + first.location()));
                    continue;
                }
                rules.add(rule);
            }
        }
        if (!problems.isEmpty()) {
            throw new PolicyException(problems);
        }
        Map<String, Set<String>> vocab = new HashMap<>();
        vocabulary.forEach((k, v) -> vocab.put(k, v.contains("*") ? Set.of() : v));
        return new PolicySet(rules, zone != null ? zone : site.timeZone(), vocab);
    }

    /** The signed bundle's metadata file (version, expiry), which sits beside the policy files and is not one. */
    public static final String BUNDLE_METADATA = "siteward-bundle.yaml";

    /** Returns the policy files directly in {@code dir}, sorted by name (the bundle metadata file is not one). */
    public static List<Path> policyFiles(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new PolicyException(Reason.IO, SourceLocation.of(dir), "not a directory");
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> files = s.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().equals(BUNDLE_METADATA))
                    .filter(p -> p.getFileName().toString().endsWith(".yaml")
                            || p.getFileName().toString().endsWith(".yml"))
                    .sorted().toList();
            if (files.isEmpty()) {
                throw new PolicyException(Reason.EMPTY_BUNDLE, SourceLocation.of(dir),
                        "no policy files (*.yaml, *.yml) in the directory");
            }
            return files;
        } catch (IOException e) {
            throw new PolicyException(Reason.IO, SourceLocation.of(dir), "cannot list directory: " + e.getMessage());
        }
    }

    /** Turns schema-valid rule nodes of one file into rules, adding semantic problems to a shared list. */
    private static final class FileReader {
        private final YamlDocument doc;
        private final List<Problem> problems;

        FileReader(YamlDocument doc, List<Problem> problems) {
            this.doc = doc;
            this.problems = problems;
        }

        ZoneId zone(String id, String ptr) {
            try {
                return ZoneId.of(id);
            } catch (DateTimeException e) {
                problems.add(new Problem(Reason.BAD_TIME_ZONE, doc.at(ptr), "'" + id
                        + "' is not a valid IANA time zone id (e.g. Europe/Berlin)"));
                return null;
            }
        }

        PolicyRule rule(JsonNode n, String ptr, int ordinal) {
            int before = problems.size();
            String id = n.get("id").asText();
            Effect effect = Effect.valueOf(n.get("effect").asText().toUpperCase(java.util.Locale.ROOT));
            JsonNode s = n.get("subjects");
            PolicyRule.Subjects subjects = new PolicyRule.Subjects(
                    s.path("anyone").asBoolean(false),
                    names(s.path("devices"), ptr + "/subjects/devices"),
                    labels(s.path("deviceLabels"), ptr + "/subjects/deviceLabels"),
                    names(s.path("admins"), ptr + "/subjects/admins"),
                    names(s.path("services"), ptr + "/subjects/services"),
                    plain(s.path("roles"), ptr + "/subjects/roles"));
            List<NamePattern> actions = new ArrayList<>();
            JsonNode a = n.get("actions");
            for (int i = 0; i < a.size(); i++) {
                String text = a.get(i).asText();
                if (ACTION.matcher(text).matches()) {
                    actions.add(NamePattern.of(text));
                } else {
                    problems.add(new Problem(text.contains("*") ? Reason.BAD_WILDCARD : Reason.SCHEMA,
                            doc.at(ptr + "/actions/" + i), text.contains("*")
                            ? "bad action wildcard '" + text + "': only a whole last segment may be '*' (valve.*)"
                            : "bad action name '" + text + "': use dotted names such as valve.open"));
                }
            }
            JsonNode res = n.path("resources");
            List<NamePattern> ids = names(res.path("ids"), ptr + "/resources/ids");
            List<NamePattern> zones = names(res.path("zones"), ptr + "/resources/zones");
            PolicyRule.Conditions when = conditions(n.path("when"), ptr + "/when");
            if (problems.size() > before) {
                return null;
            }
            return new PolicyRule(ordinal, id, n.path("description").asText(""), effect, doc.at(ptr), subjects,
                    actions, ids, zones, when);
        }

        private PolicyRule.Conditions conditions(JsonNode w, String ptr) {
            if (w.isMissingNode()) {
                return PolicyRule.Conditions.NONE;
            }
            List<PolicyRule.TimeWindow> windows = new ArrayList<>();
            JsonNode tw = w.path("timeWindows");
            for (int i = 0; i < tw.size(); i++) {
                PolicyRule.TimeWindow t = window(tw.get(i), ptr + "/timeWindows/" + i);
                if (t != null) {
                    windows.add(t);
                }
            }
            Duration maxAge = w.has("certificateMaxAge")
                    ? duration(w.get("certificateMaxAge").asText(), ptr + "/certificateMaxAge") : null;
            PolicyRule.RateLimit rate = null;
            if (w.has("rateLimit")) {
                JsonNode rl = w.get("rateLimit");
                Duration per = duration(rl.get("per").asText(), ptr + "/rateLimit/per");
                if (!rl.get("max").canConvertToInt()) {
                    problems.add(new Problem(Reason.SCHEMA, doc.at(ptr + "/rateLimit/max"), "rate limit too large"));
                } else if (per != null) {
                    rate = new PolicyRule.RateLimit(rl.get("max").asInt(), per);
                }
            }
            return new PolicyRule.Conditions(windows, plain(w.path("siteMode"), ptr + "/siteMode"), maxAge, rate,
                    labels(w.path("resourceLabels"), ptr + "/resourceLabels"));
        }

        private PolicyRule.TimeWindow window(JsonNode n, String ptr) {
            Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
            if (n.has("days")) {
                for (JsonNode d : n.get("days")) {
                    String[] range = d.asText().split("-");
                    int from = DAYS.indexOf(range[0]);
                    int to = DAYS.indexOf(range[range.length - 1]);
                    for (int i = from; ; i = (i + 1) % 7) {
                        days.add(DayOfWeek.of(i + 1));
                        if (i == to) {
                            break;
                        }
                    }
                }
            } else {
                days = EnumSet.allOf(DayOfWeek.class);
            }
            int from = minute(n.get("from").asText(), ptr + "/from", false);
            int to = minute(n.get("to").asText(), ptr + "/to", true);
            return from < 0 || to < 0 ? null : new PolicyRule.TimeWindow(days, from, to);
        }

        private int minute(String hhmm, String ptr, boolean allow24) {
            int h = Integer.parseInt(hhmm.substring(0, 2));
            int m = Integer.parseInt(hhmm.substring(3, 5));
            if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow24))) {
                problems.add(new Problem(Reason.BAD_TIME_WINDOW, doc.at(ptr), "'" + hhmm
                        + "' is not a time of day (00:00 to 23:59; 'to' may be 24:00)"));
                return -1;
            }
            return h * 60 + m;
        }

        private Duration duration(String text, String ptr) {
            try {
                long v = Long.parseLong(text.substring(0, text.length() - 1));
                return switch (text.charAt(text.length() - 1)) {
                    case 's' -> Duration.ofSeconds(v);
                    case 'm' -> Duration.ofMinutes(v);
                    case 'h' -> Duration.ofHours(v);
                    default -> Duration.ofDays(v);
                };
            } catch (ArithmeticException | NumberFormatException e) {
                problems.add(new Problem(Reason.SCHEMA, doc.at(ptr), "duration '" + text + "' is too large"));
                return null;
            }
        }

        private List<NamePattern> names(JsonNode list, String ptr) {
            List<NamePattern> out = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                String text = list.get(i).asText();
                if (NAME.matcher(text).matches()) {
                    out.add(NamePattern.of(text));
                } else {
                    problems.add(new Problem(text.contains("*") ? Reason.BAD_WILDCARD : Reason.SCHEMA,
                            doc.at(ptr + "/" + i), text.contains("*")
                            ? "bad wildcard '" + text + "': only a trailing '*' (valve-*) or a lone '*' is allowed"
                            : "bad name '" + text + "': use letters, digits and . _ : @ / -"));
                }
            }
            return out;
        }

        private Set<String> plain(JsonNode list, String ptr) {
            Set<String> out = new HashSet<>();
            for (int i = 0; i < list.size(); i++) {
                String text = list.get(i).asText();
                if (PLAIN.matcher(text).matches()) {
                    out.add(text);
                } else {
                    problems.add(new Problem(text.contains("*") ? Reason.BAD_WILDCARD : Reason.SCHEMA,
                            doc.at(ptr + "/" + i), text.contains("*")
                            ? "wildcards are not allowed here: '" + text + "'"
                            : "bad name '" + text + "': use letters, digits and . _ : @ / -"));
                }
            }
            return out;
        }

        private Map<String, String> labels(JsonNode map, String ptr) {
            Map<String, String> out = new HashMap<>();
            map.properties().forEach(e -> {
                String v = e.getValue().asText();
                if (e.getKey().contains("*") || v.contains("*")) {
                    problems.add(new Problem(Reason.BAD_WILDCARD, doc.at(ptr + "/" + e.getKey()),
                            "wildcards are not allowed in labels: '" + e.getKey() + "=" + v + "'"));
                } else {
                    out.put(e.getKey(), v);
                }
            });
            return out;
        }
    }
}
