package dev.siteward.policies.testing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.siteward.policies.AccessRequest;
import dev.siteward.policies.Decision;
import dev.siteward.policies.Effect;
import dev.siteward.policies.PolicyException;
import dev.siteward.policies.PolicyException.Reason;
import dev.siteward.policies.PolicyLoader;
import dev.siteward.policies.PolicySet;
import dev.siteward.policies.RateLimitState;
import dev.siteward.policies.RequestContext;
import dev.siteward.policies.Resource;
import dev.siteward.policies.SiteConfig;
import dev.siteward.policies.Subject;
import dev.siteward.policies.SubjectKind;
import dev.siteward.policies.internal.SchemaValidation;
import dev.siteward.policies.internal.YamlDocument;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Runs YAML test cases against a policy set: each case gives a request, the time it is made ({@code at}) and the
 * expected decision, optionally the expected deciding rule ids.
 *
 * <p>Cases live in {@code tests/*.yaml} inside a bundle directory and follow {@code policy-tests-v1.schema.json}.
 * Rate limits are never consumed (each case starts with no recorded uses).
 */
public final class PolicyTestRunner {

    /** Name of the folder inside a bundle that holds test case files. */
    public static final String TESTS_FOLDER = "tests";

    private PolicyTestRunner() {
    }

    /**
     * Loads the bundle in {@code bundleDir} and runs every case file in its {@code tests/} folder.
     *
     * @throws PolicyException when the bundle or a case file is invalid (CLI exit 2)
     */
    public static TestReport run(Path bundleDir, SiteConfig site) {
        return run(PolicyLoader.load(bundleDir, site), bundleDir);
    }

    /**
     * Runs every case file in {@code bundleDir/tests} against an already loaded {@code set}; the gateway uses this
     * to self-test a bundle before swapping it in.
     *
     * @throws PolicyException when a case file is invalid
     */
    public static TestReport run(PolicySet set, Path bundleDir) {
        List<CaseResult> results = new ArrayList<>();
        for (Path f : testFiles(bundleDir)) {
            results.addAll(runFile(set, f));
        }
        return new TestReport(results);
    }

    /** Returns the case files ({@code *.yaml}, {@code *.yml}) in {@code bundleDir/tests}, sorted; may be empty. */
    public static List<Path> testFiles(Path bundleDir) {
        Path dir = bundleDir.resolve(TESTS_FOLDER);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
        } catch (IOException e) {
            throw new PolicyException(Reason.IO, dev.siteward.policies.SourceLocation.of(dir), e.getMessage());
        }
    }

    /**
     * Runs every case of one case file against {@code set}.
     *
     * @throws PolicyException when the case file is malformed
     */
    public static List<CaseResult> runFile(PolicySet set, Path caseFile) {
        YamlDocument doc = YamlDocument.read(caseFile);
        SchemaValidation.TESTS.require(doc);
        List<CaseResult> out = new ArrayList<>();
        JsonNode cases = doc.root().get("cases");
        for (int i = 0; i < cases.size(); i++) {
            String ptr = "/cases/" + i;
            JsonNode c = cases.get(i);
            Instant at = instant(doc, c.get("at").asText(), ptr + "/at");
            JsonNode s = c.get("subject");
            Set<String> roles = new LinkedHashSet<>();
            s.path("roles").forEach(r -> roles.add(r.asText()));
            Instant notBefore = s.has("certificateNotBefore")
                    ? instant(doc, s.get("certificateNotBefore").asText(), ptr + "/subject/certificateNotBefore")
                    : null;
            Subject subject = new Subject(s.get("id").asText(),
                    SubjectKind.valueOf(s.get("kind").asText().toUpperCase(Locale.ROOT)), roles,
                    labels(s.path("labels")), notBefore);
            JsonNode r = c.get("resource");
            Resource resource = new Resource(r.get("id").asText(), r.has("zone") ? r.get("zone").asText() : null,
                    labels(r.path("labels")));
            AccessRequest request = new AccessRequest(subject, c.get("action").asText(), resource,
                    new RequestContext(c.has("siteMode") ? c.get("siteMode").asText() : null));
            List<String> expectedRules = null;
            if (c.has("expectRules")) {
                expectedRules = new ArrayList<>();
                for (JsonNode id : c.get("expectRules")) {
                    expectedRules.add(id.asText());
                }
            }
            Decision d = set.evaluate(request, at, RateLimitState.NONE);
            out.add(new CaseResult(doc.at(ptr), c.get("name").asText(),
                    Effect.valueOf(c.get("expect").asText().toUpperCase(Locale.ROOT)), expectedRules, d));
        }
        return out;
    }

    private static Instant instant(YamlDocument doc, String text, String ptr) {
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            throw new PolicyException(Reason.BAD_TEST_CASE, doc.at(ptr), "'" + text
                    + "' is not an ISO-8601 date-time with offset (e.g. 2026-03-02T08:00:00+01:00)");
        }
    }

    private static Map<String, String> labels(JsonNode n) {
        Map<String, String> m = new HashMap<>();
        n.properties().forEach(e -> m.put(e.getKey(), e.getValue().asText()));
        return m;
    }
}
