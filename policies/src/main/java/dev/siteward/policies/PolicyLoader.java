package dev.siteward.policies;

import com.fasterxml.jackson.databind.JsonNode;
import dev.siteward.policies.PolicyException.Problem;
import dev.siteward.policies.PolicyException.Reason;
import dev.siteward.policies.internal.SchemaValidation;
import dev.siteward.policies.internal.YamlDocument;
import dev.siteward.policies.retention.ClassRule;
import dev.siteward.policies.retention.DataClass;
import dev.siteward.policies.retention.ExportRule;
import dev.siteward.policies.retention.LegalHold;
import dev.siteward.policies.retention.RetentionRules;
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
        Map<DataClass, ClassRule> retentionClasses = new java.util.EnumMap<>(DataClass.class);
        Map<String, LegalHold> holds = new LinkedHashMap<>();
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
            new RetentionReader(doc, problems).read(retentionClasses, holds);
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
        return new PolicySet(rules, zone != null ? zone : site.timeZone(), vocab,
                new RetentionRules(retentionClasses, List.copyOf(holds.values())));
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

    /** Reads the {@code retention} section of one schema-valid file, checking what the schema cannot. */
    private static final class RetentionReader {
        private static final Pattern SIZE = Pattern.compile("([0-9]+)(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)");
        private final YamlDocument doc;
        private final List<Problem> problems;

        RetentionReader(YamlDocument doc, List<Problem> problems) {
            this.doc = doc;
            this.problems = problems;
        }

        void read(Map<DataClass, ClassRule> classes, Map<String, LegalHold> holds) {
            JsonNode r = doc.root().path("retention");
            if (r.isMissingNode()) {
                return;
            }
            r.path("classes").properties().forEach(e -> {
                String ptr = "/retention/classes/" + e.getKey();
                DataClass c = DataClass.byId(e.getKey()).orElseThrow();
                ClassRule rule = classRule(c, e.getValue(), ptr);
                if (rule == null) {
                    return;
                }
                ClassRule first = classes.putIfAbsent(c, rule);
                if (first != null) {
                    problems.add(new Problem(Reason.DUPLICATE_ID, doc.keyAt(ptr), "retention for class '"
                            + c.id() + "' is already defined at " + first.location()));
                }
            });
            JsonNode hs = r.path("holds");
            for (int i = 0; i < hs.size(); i++) {
                LegalHold h = hold(hs.get(i), "/retention/holds/" + i);
                if (h == null) {
                    continue;
                }
                LegalHold first = holds.putIfAbsent(h.id(), h);
                if (first != null) {
                    problems.add(new Problem(Reason.DUPLICATE_ID, doc.at("/retention/holds/" + i + "/id"),
                            "duplicate legal hold id '" + h.id() + "', first defined at " + first.location()));
                }
            }
        }

        private ClassRule classRule(DataClass c, JsonNode n, String ptr) {
            int before = problems.size();
            Set<String> fields = new LinkedHashSet<>();
            n.path("fields").forEach(f -> fields.add(f.asText()));
            Set<String> drop = declared(n.path("minimise").path("drop"), ptr + "/minimise/drop", fields, c);
            Set<String> hash = declared(n.path("minimise").path("hash"), ptr + "/minimise/hash", fields, c);
            for (String f : drop) {
                if (hash.contains(f)) {
                    problems.add(new Problem(Reason.BAD_RETENTION, doc.at(ptr + "/minimise"), "field '" + f
                            + "' is both dropped and hashed"));
                }
            }
            ExportRule export = ExportRule.NONE;
            JsonNode ex = n.path("export");
            if (!ex.isMissingNode()) {
                Set<String> out = declared(ex.path("fields"), ptr + "/export/fields", fields, c);
                JsonNode ef = ex.path("fields");
                for (int i = 0; i < ef.size(); i++) {
                    if (drop.contains(ef.get(i).asText())) {
                        problems.add(new Problem(Reason.UNKNOWN_FIELD, doc.at(ptr + "/export/fields/" + i),
                                "field '" + ef.get(i).asText() + "' is dropped at ingest, so it cannot be exported"));
                    }
                }
                Duration every = ex.has("aggregateEvery") ? duration(ex.get("aggregateEvery").asText(),
                        ptr + "/export/aggregateEvery") : ExportRule.DEFAULT_AGGREGATE_EVERY;
                if (every != null && every.isZero()) {
                    problems.add(new Problem(Reason.BAD_RETENTION, doc.at(ptr + "/export/aggregateEvery"),
                            "the aggregation window must be longer than zero"));
                }
                export = new ExportRule(true, out, ex.path("aggregatesOnly").asBoolean(false),
                        every == null ? ExportRule.DEFAULT_AGGREGATE_EVERY : every);
            }
            Duration maxAge = n.has("maxAge") ? duration(n.get("maxAge").asText(), ptr + "/maxAge") : null;
            if (maxAge != null && maxAge.isZero()) {
                problems.add(new Problem(Reason.BAD_RETENTION, doc.at(ptr + "/maxAge"),
                        "maxAge 0 would delete every record at once; leave it out to keep records regardless of age"));
            }
            Long maxBytes = n.has("maxSize") ? size(n.get("maxSize").asText(), ptr + "/maxSize") : null;
            Long maxItem = n.has("maxBlobSize") ? size(n.get("maxBlobSize").asText(), ptr + "/maxBlobSize") : null;
            if (problems.size() > before) {
                return null;
            }
            return new ClassRule(c, fields, maxAge, maxBytes, maxItem, drop, hash, export, doc.keyAt(ptr));
        }

        /** The names in {@code list}, each of which must be one of the class's declared fields. */
        private Set<String> declared(JsonNode list, String ptr, Set<String> fields, DataClass c) {
            Set<String> out = new LinkedHashSet<>();
            for (int i = 0; i < list.size(); i++) {
                String f = list.get(i).asText();
                if (!fields.contains(f)) {
                    problems.add(new Problem(Reason.UNKNOWN_FIELD, doc.at(ptr + "/" + i), "unknown field '" + f
                            + "': class '" + c.id() + "' declares " + String.join(", ", fields)));
                } else {
                    out.add(f);
                }
            }
            return out;
        }

        private LegalHold hold(JsonNode n, String ptr) {
            int before = problems.size();
            Set<DataClass> classes = EnumSet.noneOf(DataClass.class);
            JsonNode cs = n.path("classes");
            for (int i = 0; i < cs.size(); i++) {
                String id = cs.get(i).asText();
                String at = ptr + "/classes/" + i;
                DataClass.byId(id).ifPresentOrElse(classes::add, () -> problems.add(new Problem(
                        Reason.UNKNOWN_CLASS, doc.at(at), "unknown data class '" + id + "'; the classes are "
                        + String.join(", ", java.util.Arrays.stream(DataClass.values()).map(DataClass::id).toList()))));
            }
            Set<String> devices = new LinkedHashSet<>();
            n.path("devices").forEach(d -> devices.add(d.asText()));
            Map<String, String> labels = new LinkedHashMap<>();
            n.path("deviceLabels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
            java.time.Instant since = instant(n, "since", ptr);
            java.time.Instant until = instant(n, "until", ptr);
            if (since != null && until != null && !since.isBefore(until)) {
                problems.add(new Problem(Reason.BAD_RETENTION, doc.at(ptr + "/until"), "until (" + until
                        + ") must be later than since (" + since + ")"));
            }
            if (classes.isEmpty() && devices.isEmpty() && labels.isEmpty() && since == null && until == null
                    && problems.size() == before) {
                // a hold over everything is allowed, but must be said explicitly: classes lists every class
                problems.add(new Problem(Reason.BAD_RETENTION, doc.at(ptr), "legal hold '" + n.path("id").asText()
                        + "' selects nothing: give classes, devices, deviceLabels or since/until"));
            }
            if (problems.size() > before) {
                return null;
            }
            return new LegalHold(n.get("id").asText(), n.get("reason").asText(), classes, devices, labels, since,
                    until, doc.at(ptr));
        }

        private java.time.Instant instant(JsonNode n, String key, String ptr) {
            if (!n.has(key)) {
                return null;
            }
            String text = n.get(key).asText();
            try {
                return java.time.Instant.parse(text);
            } catch (java.time.format.DateTimeParseException e) {
                problems.add(new Problem(Reason.BAD_RETENTION, doc.at(ptr + "/" + key), "'" + text
                        + "' is not an instant; write it in ISO-8601 UTC, e.g. \"2026-11-01T00:00:00Z\""));
                return null;
            }
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
                problems.add(new Problem(Reason.BAD_RETENTION, doc.at(ptr), "duration '" + text + "' is too large"));
                return null;
            }
        }

        private Long size(String text, String ptr) {
            java.util.regex.Matcher m = SIZE.matcher(text);
            if (!m.matches()) {
                problems.add(new Problem(Reason.BAD_RETENTION, doc.at(ptr), "'" + text
                        + "' is not a size; write a number and a unit: 500MB, 2GiB"));
                return null;
            }
            long unit = switch (m.group(2)) {
                case "B" -> 1L;
                case "KB" -> 1_000L;
                case "MB" -> 1_000_000L;
                case "GB" -> 1_000_000_000L;
                case "TB" -> 1_000_000_000_000L;
                case "KiB" -> 1L << 10;
                case "MiB" -> 1L << 20;
                case "GiB" -> 1L << 30;
                default -> 1L << 40;
            };
            try {
                long v = Math.multiplyExact(Long.parseLong(m.group(1)), unit);
                if (v == 0) {
                    problems.add(new Problem(Reason.BAD_RETENTION, doc.at(ptr), "a size of zero keeps nothing; "
                            + "leave the key out for no limit"));
                    return null;
                }
                return v;
            } catch (ArithmeticException | NumberFormatException e) {
                problems.add(new Problem(Reason.BAD_RETENTION, doc.at(ptr), "size '" + text + "' is too large"));
                return null;
            }
        }
    }
}
