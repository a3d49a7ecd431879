package dev.siteward.gateway.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.gateway.authorization.BundleException;
import dev.siteward.gateway.authorization.PolicyBundleMetadata;
import dev.siteward.gateway.authorization.PolicyBundles;
import dev.siteward.pki.modelsig.ModelLocation;
import dev.siteward.pki.modelsig.ModelSigner;
import dev.siteward.pki.modelsig.ModelVerifier;
import dev.siteward.pki.modelsig.SignedModel;
import dev.siteward.pki.modelsig.VerificationResult;
import dev.siteward.pki.SecureFiles;
import dev.siteward.policies.AccessRequest;
import dev.siteward.policies.Explanation;
import dev.siteward.policies.PolicyException;
import dev.siteward.policies.PolicyLoader;
import dev.siteward.policies.PolicySet;
import dev.siteward.policies.RateLimitState;
import dev.siteward.policies.RequestContext;
import dev.siteward.policies.Resource;
import dev.siteward.policies.SiteConfig;
import dev.siteward.policies.SourceLocation;
import dev.siteward.policies.Subject;
import dev.siteward.policies.SubjectKind;
import dev.siteward.policies.check.Finding;
import dev.siteward.policies.check.PolicyChecker;
import dev.siteward.policies.diff.DiffEntry;
import dev.siteward.policies.diff.PolicyDiff;
import dev.siteward.policies.diff.RecordedDecision;
import dev.siteward.policies.diff.ReplayChange;
import dev.siteward.policies.testing.CaseResult;
import dev.siteward.policies.testing.PolicyTestRunner;
import dev.siteward.policies.testing.TestReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code siteward policy ...}: check, test, explain, compare, sign and verify policy bundles offline. The policy
 * logic lives in the {@code policies} module and signing in {@code dev.siteward.pki.modelsig}; a signed bundle is a
 * policy folder signed exactly like a model folder, with a {@code siteward-bundle.yaml} inside (docs/policies.md).
 */
@Command(name = "policy", mixinStandardHelpOptions = true,
        description = "Policy bundles: check, test, explain, diff, sign and verify (offline); push, status and "
                + "site mode (the gateway's).",
        subcommands = {PolicyCommand.Check.class, PolicyCommand.Test.class, PolicyCommand.Explain.class,
                PolicyCommand.Diff.class, PolicyCommand.Sign.class, PolicyCommand.Verify.class,
                PolicyCommand.Push.class, PolicyCommand.Status.class, PolicyCommand.Mode.class})
public final class PolicyCommand implements Runnable {

    /** The signature of a signed bundle, inside the bundle folder (left out of what it signs). */
    static final String SIGNATURE_FILE = PolicyBundles.SIGNATURE_FILE;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "a subcommand is required: check, test, explain, diff, sign, verify, push, status or mode");
    }

    /** The policy files of a bundle folder: every {@code *.yaml}/{@code *.yml} in it but the bundle metadata. */
    static List<Path> policyFiles(Path dir) {
        List<Path> files = PolicyLoader.policyFiles(dir).stream()
                .filter(p -> !p.getFileName().toString().equals(PolicyBundleMetadata.FILE_NAME)).toList();
        if (files.isEmpty()) {
            throw new PolicyException(PolicyException.Reason.EMPTY_BUNDLE, SourceLocation.of(dir),
                    "no policy files (*.yaml, *.yml) in the directory");
        }
        return files;
    }

    /** Loads a bundle folder; a bundle that does not load is bad input (exit 2), named by its first problem. */
    static PolicySet load(Path dir) {
        try {
            return PolicyLoader.load(policyFiles(dir), SiteConfig.DEFAULTS);
        } catch (PolicyException e) {
            throw refused(e, dir);
        }
    }

    static CliException refused(PolicyException e, Path dir) {
        int more = e.problems().size() - 1;
        return new CliException(CliException.BAD_INPUT, e.problems().get(0)
                + (more > 0 ? " (and " + more + " more problem(s); see siteward policy check " + dir + ")" : ""), e);
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = {"Check a bundle folder against the schema, then lint it.",
                    "Exit 2 when a file cannot be read or parsed or breaks the schema (file:line:column: code: "
                            + "message on stderr); exit 1 with one line per lint finding (file:line: code: "
                            + "message); exit 0 when clean."})
    static final class Check implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "DIR", description = "The bundle folder.")
        Path dir;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            PolicySet set;
            try {
                set = PolicyLoader.load(policyFiles(dir), SiteConfig.DEFAULTS);
            } catch (PolicyException e) {
                for (PolicyException.Problem p : e.problems()) {
                    err.println(p);
                }
                err.flush();
                return CliException.BAD_INPUT;
            }
            List<Finding> findings = PolicyChecker.lint(set);
            for (Finding f : findings) {
                out.println(lineOf(f.location()) + ": " + f.code() + ": " + f.message());
            }
            if (!findings.isEmpty()) {
                return CliException.CHECK_FAILED;
            }
            out.println("ok: " + set.rules().size() + " rules, no findings");
            return 0;
        }

        private static String lineOf(SourceLocation l) {
            return l.line() > 0 ? l.file() + ":" + l.line() : String.valueOf(l.file());
        }
    }

    @Command(name = "test", mixinStandardHelpOptions = true,
            description = {"Run the bundle's test cases (DIR/tests/*.yaml) against its policies.",
                    "Prints each failing case with its file and line; exit 1 when a case fails or there is none, "
                            + "2 when the bundle or a case file is invalid."})
    static final class Test implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "DIR", description = "The bundle folder.")
        Path dir;

        @Override
        public Integer call() {
            PolicySet set = load(dir);
            TestReport report;
            try {
                report = PolicyTestRunner.run(set, dir);
            } catch (PolicyException e) {
                throw refused(e, dir);
            }
            PrintWriter out = spec.commandLine().getOut();
            if (report.results().isEmpty()) {
                throw new CliException(CliException.CHECK_FAILED, "no test cases in " + dir.resolve(
                        PolicyTestRunner.TESTS_FOLDER));
            }
            for (CaseResult r : report.failures()) {
                out.println(r);
            }
            int failed = report.failures().size();
            out.println(report.results().size() + " cases: " + (report.results().size() - failed) + " passed, "
                    + failed + " failed");
            return report.exitCode();
        }
    }

    @Command(name = "explain", mixinStandardHelpOptions = true,
            description = {"Decide one request against a bundle and show why, rule by rule.",
                    "Without --bundle, asks the gateway's active bundle (its admin API while it runs, else the data "
                            + "dir), in the gateway's site mode unless --site-mode is given.",
                    "Subjects: device:ID (with --label k=v for its labels), admin:NAME, service:NAME; each may "
                            + "hold --role ROLE. Without --resource only rules without 'resources' can apply."})
    static final class Explain implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        DataDir dataDir;

        @Option(names = "--bundle", paramLabel = "DIR",
                description = "The bundle folder (default: the gateway's active bundle).")
        Path bundle;

        @Option(names = "--subject", required = true, paramLabel = "KIND:ID",
                description = "device:ID, admin:NAME or service:NAME.")
        String subject;

        @Option(names = "--role", paramLabel = "ROLE", description = "A role the subject holds; repeatable.")
        List<String> roles = new ArrayList<>();

        @Option(names = "--label", paramLabel = "K=V", description = "A label of the subject (device); repeatable.")
        List<String> labels = new ArrayList<>();

        @Option(names = "--certificate-age", paramLabel = "DURATION",
                description = "Age of the subject's certificate at the request time, e.g. 3d (default: unknown, "
                        + "which fails certificateMaxAge).")
        String certificateAge;

        @Option(names = "--action", required = true, paramLabel = "ACTION", description = "e.g. valve.open.")
        String action;

        @Option(names = "--resource", paramLabel = "ID", description = "The resource acted on, e.g. valve-a-07.")
        String resource;

        @Option(names = "--zone", paramLabel = "ZONE", description = "The resource's zone.")
        String zone;

        @Option(names = "--resource-label", paramLabel = "K=V", description = "A label of the resource; repeatable.")
        List<String> resourceLabels = new ArrayList<>();

        @Option(names = "--site-mode", paramLabel = "MODE",
                description = "Site mode of the request. Default: normal with --bundle, else the gateway's mode.")
        String siteMode;

        @Option(names = "--at", paramLabel = "TIME", description = "Request time, RFC 3339 (default: now).")
        String at;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            Instant when = at == null ? Clock.systemUTC().instant() : rfc3339(at, "--at");
            Instant notBefore = certificateAge == null ? null : when.minus(DurationText.parse(certificateAge));
            if (bundle == null) {
                return explainLive(when, notBefore);
            }
            AccessRequest request = new AccessRequest(subject(notBefore), action, resource(),
                    new RequestContext(siteMode == null ? RequestContext.DEFAULT_SITE_MODE : siteMode));
            PolicySet set = load(bundle);
            Explanation e = set.explain(request, when, RateLimitState.NONE);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                ObjectNode n = CaCommand.JSON.createObjectNode();
                n.put("decision", e.decision().effect().yamlName());
                e.decision().ruleIds().forEach(n.putArray("ruleIds")::add);
                n.put("reason", e.decision().reason());
                n.put("at", when.toString());
                ArrayNode rules = n.putArray("rules");
                for (Explanation.RuleTrace t : e.rules()) {
                    ObjectNode r = rules.addObject();
                    r.put("id", t.ruleId());
                    r.put("effect", t.effect().yamlName());
                    r.put("location", String.valueOf(t.location()));
                    r.put("matched", t.matched());
                    r.put("why", t.why());
                }
                out.println(CaCommand.JSON.writeValueAsString(n));
                return 0;
            }
            out.println(e.decision().effect().yamlName() + (e.decision().ruleIds().isEmpty() ? " (no rule applies)"
                    : " by " + String.join(", ", e.decision().ruleIds())));
            out.println("reason: " + e.decision().reason());
            for (Explanation.RuleTrace t : e.rules()) {
                out.println("  " + (t.matched() ? "matched " : "skipped ") + t.effect().yamlName() + " "
                        + t.ruleId() + " (" + t.location() + ")" + (t.matched() ? "" : ": " + t.why()));
            }
            return 0;
        }

        private int explainLive(Instant when, Instant notBefore) throws IOException {
            Subject sub = subject(notBefore);
            Resource res = resource();
            Map<String, Object> subjectJson = new LinkedHashMap<>();
            subjectJson.put("kind", sub.kind().name().toLowerCase(java.util.Locale.ROOT));
            subjectJson.put("id", sub.id());
            subjectJson.put("roles", List.copyOf(sub.roles()));
            subjectJson.put("labels", sub.labels());
            subjectJson.put("certificateNotBefore", notBefore == null ? null : notBefore.toString());
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("subject", subjectJson);
            body.put("action", action);
            if (!NO_RESOURCE.equals(res.id())) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("id", res.id());
                r.put("zone", res.zone());
                r.put("labels", res.labels());
                body.put("resource", r);
            }
            if (siteMode != null) {
                body.put("siteMode", siteMode);
            }
            body.put("at", when.toString());
            com.fasterxml.jackson.databind.JsonNode e;
            try (PolicyGateway gw = PolicyGateway.open(dataDir)) {
                e = gw.explain(body);
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(CaCommand.JSON.writeValueAsString(e));
                return 0;
            }
            List<String> ids = new ArrayList<>();
            e.path("ruleIds").forEach(i -> ids.add(i.asText()));
            out.println(e.path("decision").asText() + (ids.isEmpty() ? " (no rule applies)"
                    : " by " + String.join(", ", ids)));
            out.println("reason: " + e.path("reason").asText());
            out.println("bundle: version " + e.path("bundleVersion").asText() + ", site mode "
                    + e.path("siteMode").asText() + ", at " + e.path("at").asText());
            for (com.fasterxml.jackson.databind.JsonNode t : e.path("rules")) {
                boolean matched = t.path("matched").asBoolean();
                out.println("  " + (matched ? "matched " : "skipped ") + t.path("effect").asText() + " "
                        + t.path("id").asText() + " (" + t.path("location").asText() + ")"
                        + (matched ? "" : ": " + t.path("why").asText()));
            }
            return 0;
        }

        private Subject subject(Instant notBefore) {
            int colon = subject.indexOf(':');
            if (colon <= 0 || colon == subject.length() - 1) {
                throw CliException.badInput("invalid --subject '" + subject
                        + "': expected device:ID, admin:NAME or service:NAME");
            }
            String id = subject.substring(colon + 1);
            SubjectKind kind = switch (subject.substring(0, colon)) {
                case "device" -> SubjectKind.DEVICE;
                case "admin" -> SubjectKind.ADMIN;
                case "service" -> SubjectKind.SERVICE;
                default -> throw CliException.badInput("invalid --subject '" + subject
                        + "': the kind must be device, admin or service");
            };
            if (kind != SubjectKind.DEVICE && !labels.isEmpty()) {
                throw CliException.badInput("--label describes a device; the subject is " + kind.name()
                        .toLowerCase(java.util.Locale.ROOT));
            }
            return new Subject(id, kind, new LinkedHashSet<>(roles), pairs(labels, "--label"), notBefore);
        }

        private Resource resource() {
            if (resource == null) {
                if (zone != null || !resourceLabels.isEmpty()) {
                    throw CliException.badInput("--zone and --resource-label need --resource");
                }
                return new Resource(NO_RESOURCE, null, Map.of());
            }
            return new Resource(resource, zone, pairs(resourceLabels, "--resource-label"));
        }
    }

    /** The resource id used when {@code explain} is given none; '~' cannot appear in a rule, so no id matches it. */
    static final String NO_RESOURCE = "~none";

    static Map<String, String> pairs(List<String> items, String option) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String item : items) {
            int eq = item.indexOf('=');
            if (eq <= 0) {
                throw CliException.badInput("invalid " + option + " '" + item + "': expected key=value");
            }
            if (map.put(item.substring(0, eq), item.substring(eq + 1)) != null) {
                throw CliException.badInput(option + " gives '" + item.substring(0, eq) + "' twice");
            }
        }
        return map;
    }

    static Instant rfc3339(String text, String option) {
        try {
            return OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
        } catch (DateTimeParseException e) {
            throw CliException.badInput("invalid " + option + " '" + text
                    + "': expected an RFC 3339 time such as 2026-03-02T08:00:00+01:00");
        }
    }

    @Command(name = "diff", mixinStandardHelpOptions = true,
            description = {"List the subject/action/resource combinations that NEW allows and OLD did not, and the "
                    + "reverse (every site mode and time window of a reference week).",
                    "--days N also replays the gateway's recorded decisions of the last N days against NEW (through "
                            + "its admin API while it runs, else from the data dir) and lists those that would "
                            + "change."})
    static final class Diff implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        DataDir dataDir;

        @Parameters(index = "0", paramLabel = "OLD", description = "The bundle folder in use.")
        Path older;

        @Parameters(index = "1", paramLabel = "NEW", description = "The proposed bundle folder.")
        Path newer;

        @Option(names = "--days", paramLabel = "N",
                description = "Also replay the gateway's recorded decisions of the last N days against NEW.")
        Integer days;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            if (days != null && days < 1) {
                throw CliException.badInput("--days must be a positive number of days");
            }
            PolicySet newSet = load(newer);
            List<DiffEntry> entries = PolicyDiff.compare(load(older), newSet);
            PrintWriter out = spec.commandLine().getOut();
            List<ReplayChange> changes = null;
            int replayed = 0;
            if (days != null) {
                List<RecordedDecision> recorded = recorded();
                if (recorded.isEmpty()) {
                    spec.commandLine().getErr().println("siteward: note: no recorded decisions of the last " + days
                            + " day(s) in " + dataDir.path() + "; showing the static diff only");
                } else {
                    replayed = recorded.size();
                    changes = PolicyDiff.replay(recorded, newSet);
                }
            }
            if (json && changes != null) {
                ObjectNode root = CaCommand.JSON.createObjectNode();
                root.set("combinations", CaCommand.JSON.valueToTree(entries.stream().map(Diff::entryJson).toList()));
                root.put("replayed", replayed);
                ArrayNode arr = root.putArray("changedDecisions");
                for (ReplayChange c : changes) {
                    ObjectNode n = arr.addObject();
                    n.put("decisionId", c.recorded().decisionId());
                    n.put("at", c.recorded().at().toString());
                    n.put("subject", c.recorded().request().subject().describe());
                    n.put("action", c.recorded().request().action());
                    n.put("resource", c.recorded().request().resource().id());
                    n.put("recorded", c.recorded().effect().yamlName());
                    n.put("now", c.now().effect().yamlName());
                    c.now().ruleIds().forEach(n.putArray("newRuleIds")::add);
                    n.put("reason", c.now().reason());
                }
                out.println(CaCommand.JSON.writeValueAsString(root));
                return 0;
            }
            if (json) {
                ArrayNode arr = CaCommand.JSON.createArrayNode();
                for (DiffEntry d : entries) {
                    ObjectNode n = arr.addObject();
                    n.put("change", d.change() == DiffEntry.Change.NEWLY_ALLOWED ? "newly_allowed" : "newly_denied");
                    n.put("subjectKind", d.subject().kind().name().toLowerCase(java.util.Locale.ROOT));
                    n.put("subject", d.subject().id());
                    n.put("action", d.action());
                    n.put("resource", d.resource().id());
                    n.put("zone", d.resource().zone());
                    n.put("exampleMode", d.exampleMode());
                    n.put("exampleTime", d.exampleTime().toString());
                    n.put("changedIn", d.changedIn());
                    n.put("contexts", d.contexts());
                    d.newRuleIds().forEach(n.putArray("newRuleIds")::add);
                }
                out.println(CaCommand.JSON.writeValueAsString(arr));
                return 0;
            }
            long allowed = entries.stream().filter(d -> d.change() == DiffEntry.Change.NEWLY_ALLOWED).count();
            for (DiffEntry d : entries) {
                out.println((d.change() == DiffEntry.Change.NEWLY_ALLOWED ? "newly allowed: " : "newly denied: ")
                        + d.subject().describe() + " " + d.action() + " on " + d.resource().describe()
                        + " (in " + d.changedIn() + "/" + d.contexts() + " contexts, e.g. mode " + d.exampleMode()
                        + " at " + d.exampleTime() + "; rules " + d.newRuleIds() + ")");
            }
            out.println(entries.isEmpty() ? "no change" : allowed + " newly allowed, "
                    + (entries.size() - allowed) + " newly denied");
            if (changes != null) {
                for (ReplayChange c : changes) {
                    RecordedDecision r = c.recorded();
                    out.println("would change: decision " + r.decisionId() + " at " + r.at() + ": "
                            + r.request().subject().describe() + " " + r.request().action() + " on "
                            + r.request().resource().describe() + " in mode " + r.request().context().siteMode()
                            + ": was " + r.effect().yamlName() + ", now " + c.now().effect().yamlName()
                            + (c.now().ruleIds().isEmpty() ? "" : " by " + c.now().ruleIds()));
                }
                out.println(changes.size() + " of " + replayed + " recorded decision(s) of the last " + days
                        + " day(s) would change");
            }
            return 0;
        }

        private static Map<String, Object> entryJson(DiffEntry d) {
            Map<String, Object> n = new LinkedHashMap<>();
            n.put("change", d.change() == DiffEntry.Change.NEWLY_ALLOWED ? "newly_allowed" : "newly_denied");
            n.put("subjectKind", d.subject().kind().name().toLowerCase(java.util.Locale.ROOT));
            n.put("subject", d.subject().id());
            n.put("action", d.action());
            n.put("resource", d.resource().id());
            n.put("zone", d.resource().zone());
            n.put("exampleMode", d.exampleMode());
            n.put("exampleTime", d.exampleTime().toString());
            n.put("changedIn", d.changedIn());
            n.put("contexts", d.contexts());
            n.put("newRuleIds", d.newRuleIds());
            return n;
        }

        /** The live decisions the gateway recorded in the last --days days; none when the data dir has no log. */
        private List<RecordedDecision> recorded() {
            Path dir = dataDir.path();
            if (!Files.isDirectory(dir.resolve("db")) && !Files.exists(dir.resolve("gateway/endpoints.json"))) {
                return List.of();
            }
            List<RecordedDecision> out = new ArrayList<>();
            try (PolicyGateway gw = PolicyGateway.open(dataDir)) {
                for (Map<String, Object> m : gw.decisions(days)) {
                    com.fasterxml.jackson.databind.JsonNode n = CaCommand.JSON.valueToTree(m);
                    com.fasterxml.jackson.databind.JsonNode s = n.path("subject");
                    java.util.Set<String> roles = new LinkedHashSet<>();
                    s.path("roles").forEach(x -> roles.add(x.asText()));
                    Subject subject = new Subject(s.path("id").asText(), SubjectKind.valueOf(s.path("kind").asText()
                            .toUpperCase(java.util.Locale.ROOT)), roles, strings(s.path("labels")),
                            s.path("certificateNotBefore").isTextual()
                                    ? Instant.parse(s.path("certificateNotBefore").asText()) : null);
                    com.fasterxml.jackson.databind.JsonNode r = n.path("resource");
                    Resource resource = new Resource(r.path("id").asText(), r.path("zone").isTextual()
                            ? r.path("zone").asText() : null, strings(r.path("labels")));
                    out.add(new RecordedDecision(n.path("id").asText(), new AccessRequest(subject,
                            n.path("action").asText(), resource, new RequestContext(n.path("siteMode").asText())),
                            Instant.parse(n.path("at").asText()), "allow".equals(n.path("effect").asText())
                            ? dev.siteward.policies.Effect.ALLOW : dev.siteward.policies.Effect.DENY));
                }
            }
            return out;
        }

        private static Map<String, String> strings(com.fasterxml.jackson.databind.JsonNode n) {
            Map<String, String> m = new LinkedHashMap<>();
            n.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
            return m;
        }
    }

    @Command(name = "push", mixinStandardHelpOptions = true,
            description = {"Install a signed bundle folder on the gateway: verified (signature, publisher trusted "
                    + "for policies, every file, version newer than the active one, not expired), loaded and "
                    + "self-tested, then swapped in atomically.",
                    "Through the admin API while the gateway runs, else directly in the data dir. Exit 1 when the "
                            + "bundle is refused (code: message; the active bundle stays), 2 when it cannot be read."})
    static final class Push implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        DataDir dataDir;

        @Parameters(index = "0", paramLabel = "DIR", description = "The signed bundle folder.")
        Path dir;

        @Override
        public Integer call() {
            PolicyBundles.BundleFiles files;
            try {
                files = PolicyBundles.read(dir);
            } catch (BundleException e) {
                throw CliException.badInput(e.getMessage());
            }
            if (files.signature() == null) {
                throw new CliException(CliException.CHECK_FAILED, "bundle.unsigned: " + dir
                        + " has no bundle.sig: sign it with 'siteward policy sign' first");
            }
            com.fasterxml.jackson.databind.JsonNode r;
            try (PolicyGateway gw = PolicyGateway.open(dataDir)) {
                r = gw.push(files);
            }
            spec.commandLine().getOut().println("installed policy bundle " + r.path("name").asText() + " version "
                    + r.path("version").asText() + " (" + r.path("digest").asText() + ", expires "
                    + r.path("expires").asText() + ")");
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Show the gateway's active policy bundle, whether it is valid now, the site mode and the "
                    + "last refused bundle. Exit 1 when no valid bundle is active (every decision is then deny).")
    static final class Status implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        DataDir dataDir;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            com.fasterxml.jackson.databind.JsonNode s;
            try (PolicyGateway gw = PolicyGateway.open(dataDir)) {
                s = gw.status();
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(CaCommand.JSON.writeValueAsString(s));
            } else {
                com.fasterxml.jackson.databind.JsonNode a = s.path("active");
                out.println(a.isObject() ? "active: " + a.path("name").asText() + " version "
                        + a.path("version").asText() + " (" + a.path("digest").asText() + "), activated "
                        + a.path("activated").asText() + ", expires " + a.path("expires").asText()
                        : "active: none");
                out.println(s.path("valid").asBoolean() ? "valid: yes"
                        : "valid: no: " + s.path("problem").asText() + " (every decision is deny)");
                out.println("site mode: " + s.path("siteMode").asText());
                com.fasterxml.jackson.databind.JsonNode rej = s.path("lastRejection");
                if (rej.isObject()) {
                    out.println("last refused: " + rej.path("source").asText() + " at " + rej.path("at").asText()
                            + ": " + rej.path("code").asText() + ": " + rej.path("message").asText());
                }
            }
            return s.path("valid").asBoolean() ? 0 : CliException.CHECK_FAILED;
        }
    }

    @Command(name = "mode", mixinStandardHelpOptions = true,
            description = {"Show or set the site mode the gateway decides in (e.g. normal, maintenance); persisted.",
                    "While the gateway runs this goes through its admin API (admin certificate with the security "
                            + "role)."})
    static final class Mode implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        DataDir dataDir;

        @Parameters(index = "0", arity = "0..1", paramLabel = "MODE", description = "The new mode; omit to show it.")
        String mode;

        @Override
        public Integer call() {
            String now;
            try (PolicyGateway gw = PolicyGateway.open(dataDir)) {
                now = gw.mode(mode);
            }
            spec.commandLine().getOut().println("site mode: " + now);
            return 0;
        }
    }

    @Command(name = "sign",
            description = {"Sign a bundle folder: write siteward-bundle.yaml (version, created, expires) into it, "
                    + "then sign the whole folder in the model-signing format to DIR/bundle.sig.",
                    "A bundle that does not load is refused (exit 2), and so is one whose own tests fail (exit 1)."})
    static final class Sign implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        PublisherSigner keys;

        // --version is the bundle version here, so the standard -V/--version option is not mixed in
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;

        @Parameters(index = "0", paramLabel = "DIR", description = "The bundle folder.")
        Path dir;

        @Option(names = "--key", required = true, paramLabel = "KEY",
                description = "Private key PEM file; with --pkcs11-config, the key's alias in the token.")
        String key;

        @Option(names = "--cert-chain", required = true, paramLabel = "PEM",
                description = "Signing (publisher) certificate first, then intermediates.")
        Path certChain;

        @Option(names = "--version", paramLabel = "N",
                description = "Bundle version, a positive integer (default: the previous version in the folder + 1, "
                        + "else 1).")
        Long version;

        @Option(names = "--expires", defaultValue = "30d", paramLabel = "DURATION",
                description = "Validity from now, e.g. 30d. Default: ${DEFAULT-VALUE}.")
        String expires;

        @Override
        public Integer call() throws IOException {
            java.time.Duration validity = DurationText.parse(expires);
            if (validity.isZero()) {
                throw CliException.badInput("--expires must be longer than 0s");
            }
            List<java.security.cert.X509Certificate> chain = PemFiles.certificates(certChain, "--cert-chain");
            ModelSigner signer = keys.signer(key, chain);
            PolicySet set = load(dir);
            if (!PolicyTestRunner.testFiles(dir).isEmpty()) {
                TestReport report;
                try {
                    report = PolicyTestRunner.run(set, dir);
                } catch (PolicyException e) {
                    throw refused(e, dir);
                }
                if (!report.failures().isEmpty()) {
                    throw new CliException(CliException.CHECK_FAILED, "not signed: " + report.failures().size()
                            + " test case(s) fail, first " + report.failures().get(0));
                }
            }
            Path metadataFile = dir.resolve(PolicyBundleMetadata.FILE_NAME);
            byte[] previous = Files.exists(metadataFile) ? Files.readAllBytes(metadataFile) : null;
            long v = version != null ? version : previousVersion(previous) + 1;
            Instant now = Clock.systemUTC().instant();
            PolicyBundleMetadata metadata = new PolicyBundleMetadata(v, now, now.plus(validity));
            SecureFiles.writeAtomically(metadataFile, metadata.toYaml(), false);
            Path signature = dir.resolve(SIGNATURE_FILE);
            SignedModel signed;
            try {
                signed = ModelCommand.sign(signer, ModelLocation.of(dir).signatureFile(signature),
                        "policy bundle " + dir);
            } catch (RuntimeException e) {
                // leave the folder as it was: no new version without a signature for it
                if (previous == null) {
                    Files.deleteIfExists(metadataFile);
                } else {
                    SecureFiles.writeAtomically(metadataFile, previous, false);
                }
                throw e;
            }
            signed.writeTo(signature);
            spec.commandLine().getOut().println("signed policy bundle " + signed.manifest().modelName() + " version "
                    + v + " (expires " + metadata.expires() + "): " + signed.manifest().fileCount() + " files");
            return 0;
        }

        private static long previousVersion(byte[] metadata) {
            if (metadata == null) {
                return 0;
            }
            try {
                return PolicyBundleMetadata.parse(metadata).version();
            } catch (IllegalArgumentException e) {
                return 0;
            }
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Verify a signed bundle folder: DIR/bundle.sig, every file re-hashed, and the version "
                    + "and expiry in the signed siteward-bundle.yaml.",
                    "Exit 0 and one line; exit 1 when the signature, a file or the expiry fails; exit 2 when an input "
                            + "cannot be read."})
    static final class Verify implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "DIR", description = "The signed bundle folder.")
        Path dir;

        @Option(names = "--certificate-chain", required = true, paramLabel = "ROOT_PEM",
                description = "Trusted root certificate(s) of the publisher CA, PEM.")
        Path roots;

        @Option(names = "--at", paramLabel = "TIME",
                description = "Check expiry and certificates at this RFC 3339 time instead of now.")
        String at;

        @Override
        public Integer call() {
            Instant now = at == null ? Clock.systemUTC().instant() : rfc3339(at, "--at");
            List<java.security.cert.X509Certificate> trusted = PemFiles.certificates(roots, "--certificate-chain");
            PrintWriter err = spec.commandLine().getErr();
            PolicyBundles.VerifiedBundle verified;
            try {
                verified = PolicyBundles.verify(PolicyBundles.read(dir), trusted, now);
            } catch (BundleException e) {
                switch (e.reason()) {
                    case UNREADABLE -> throw CliException.badInput(e.getMessage());
                    case UNSIGNED -> throw CliException.badInput("signature " + dir.resolve(SIGNATURE_FILE)
                            + ": file not found");
                    case SIGNATURE -> {
                        return VerificationReport.failed(e.failure().orElseThrow(), err);
                    }
                    default -> {
                        return fail(err, e.code(), e.getMessage());
                    }
                }
            }
            spec.commandLine().getOut().println("verified policy bundle " + verified.name() + " version "
                    + verified.metadata().version() + " (expires " + verified.metadata().expires() + "): "
                    + verified.files().files().size() + " files");
            return 0;
        }

        private static int fail(PrintWriter err, String code, String message) {
            err.println("siteward: " + code + ": " + message);
            err.flush();
            return CliException.CHECK_FAILED;
        }
    }
}
