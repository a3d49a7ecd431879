package dev.siteward.policies.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.policies.Bundles;
import dev.siteward.policies.PolicyException;
import dev.siteward.policies.SiteConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyTestRunnerTest {

    @TempDir
    Path dir;

    @BeforeEach
    void writeBundle() {
        Bundles.write(dir, "policy.yaml", """
                schemaVersion: 1
                rules:
                  - id: cams
                    effect: allow
                    subjects: {deviceLabels: {class: camera}}
                    actions: [camera.frames.publish]
                """);
    }

    private static final String CASE = """
              - name: %s
                at: "2026-03-02T08:00:00+01:00"
                subject: {id: cam-1, kind: device, labels: {class: camera}}
                action: camera.frames.publish
                resource: {id: inference-1}
                expect: %s
            """;

    @Test
    void passingCasesGiveExitCodeZero() {
        Bundles.write(dir, "tests/cams.yaml", "schemaVersion: 1\ncases:\n" + CASE.formatted("publishes", "allow"));
        TestReport r = PolicyTestRunner.run(dir, SiteConfig.DEFAULTS);
        assertEquals(1, r.results().size());
        assertTrue(r.passed());
        assertEquals(0, r.exitCode());
    }

    @Test
    void aFailingCaseIsNamedWithItsFileAndLine() {
        Bundles.write(dir, "tests/cams.yaml", "schemaVersion: 1\ncases:\n" + CASE.formatted("publishes", "allow")
                + CASE.formatted("wrongly expects deny", "deny"));
        TestReport r = PolicyTestRunner.run(dir, SiteConfig.DEFAULTS);
        assertEquals(1, r.failures().size());
        assertEquals(1, r.exitCode());
        CaseResult f = r.failures().get(0);
        assertEquals("wrongly expects deny", f.name());
        assertEquals(dir.resolve("tests/cams.yaml"), f.location().file());
        assertEquals(9, f.location().line());
        assertTrue(f.toString().startsWith(dir.resolve("tests/cams.yaml") + ":9:5: FAIL 'wrongly expects deny': "
                + "expected deny, got allow by [cams]"), f::toString);
    }

    @Test
    void expectedRuleIdsMustMatchTheDecidingRules() {
        Bundles.write(dir, "tests/cams.yaml", "schemaVersion: 1\ncases:\n" + CASE.formatted("named", "allow")
                + "    expectRules: [some-other-rule]\n");
        TestReport r = PolicyTestRunner.run(dir, SiteConfig.DEFAULTS);
        assertFalse(r.passed());
    }

    @Test
    void aBundleWithoutCasesDoesNotPass() {
        assertEquals(1, PolicyTestRunner.run(dir, SiteConfig.DEFAULTS).exitCode());
    }

    @Test
    void aCaseWithAnUnknownKeyIsRefusedWithItsLocation() {
        Bundles.write(dir, "tests/cams.yaml", "schemaVersion: 1\ncases:\n" + CASE.formatted("x", "allow")
                + "    expected: allow\n");
        PolicyException e = assertThrows(PolicyException.class, () -> PolicyTestRunner.run(dir, SiteConfig.DEFAULTS));
        assertEquals("policy.unknown_key", e.code());
        assertEquals(9, e.location().line());
    }

    @Test
    void aCaseWithABadInstantIsABadTestCase() {
        Bundles.write(dir, "tests/cams.yaml", "schemaVersion: 1\ncases:\n" + CASE.formatted("x", "allow")
                .replace("2026-03-02T08:00:00+01:00", "monday morning"));
        PolicyException e = assertThrows(PolicyException.class, () -> PolicyTestRunner.run(dir, SiteConfig.DEFAULTS));
        assertEquals("policy.bad_test_case", e.code());
        assertEquals(4, e.location().line());
    }
}
