package dev.siteward.policies.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.policies.Bundles;
import dev.siteward.policies.SiteConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyCheckerTest {

    @TempDir
    Path dir;

    private CheckResult check(String rulesYaml) {
        Bundles.write(dir, "policy.yaml", "schemaVersion: 1\nlabels:\n  class: [valve-controller, camera]\n"
                + "  hazard: []\nrules:\n" + rulesYaml);
        return PolicyChecker.check(dir, SiteConfig.DEFAULTS);
    }

    private static List<String> codes(CheckResult r) {
        return r.findings().stream().map(Finding::code).toList();
    }

    @Test
    void aCleanBundleHasNoFindingsAndExitsZero() {
        CheckResult r = check("""
                  - id: a
                    effect: allow
                    subjects: {deviceLabels: {class: camera}}
                    actions: [camera.frames.publish]
                """);
        assertEquals(List.of(), r.findings());
        assertEquals(0, r.exitCode());
    }

    @Test
    void theExampleBundleIsLintClean() {
        CheckResult r = PolicyChecker.check(Path.of("examples/plant-north"), SiteConfig.DEFAULTS);
        assertEquals(List.of(), r.findings());
    }

    @Test
    void aSchemaErrorIsAnErrorFindingAndExitsTwo() {
        CheckResult r = check("""
                  - id: a
                    effect: allow
                    subject: {devices: [x]}
                    actions: [camera.view]
                """);
        assertTrue(r.invalid());
        assertEquals(2, r.exitCode());
        assertTrue(codes(r).contains("policy.unknown_key"), r::toString);
        Finding f = r.findings().stream().filter(x -> x.code().equals("policy.unknown_key")).findFirst().orElseThrow();
        assertEquals(Severity.ERROR, f.severity());
        assertEquals(8, f.location().line());
        assertEquals(5, f.location().column());
    }

    @Test
    void duplicateIdsAreAnErrorThatExitsTwo() {
        CheckResult r = check("""
                  - id: a
                    effect: allow
                    subjects: {devices: [x]}
                    actions: [camera.view]
                  - id: a
                    effect: deny
                    subjects: {devices: [y]}
                    actions: [camera.view]
                """);
        assertEquals(List.of("policy.duplicate_id"), codes(r));
        assertEquals(2, r.exitCode());
        assertEquals(10, r.findings().get(0).location().line());
    }

    @Test
    void anAllowFullyCoveredByABroaderDenyIsShadowed() {
        CheckResult r = check("""
                  - id: open-one-valve
                    effect: allow
                    subjects: {devices: [vc-1]}
                    actions: [valve.open]
                    resources: {ids: [valve-1]}
                  - id: no-valves-for-vcs
                    effect: deny
                    subjects: {devices: ["vc-*"]}
                    actions: [valve.*]
                """);
        assertEquals(List.of("lint.shadowed"), codes(r));
        Finding f = r.findings().get(0);
        assertEquals("open-one-valve", f.ruleId());
        assertEquals(Severity.WARNING, f.severity());
        assertEquals(6, f.location().line());
        assertTrue(f.message().contains("denied by rule 'no-valves-for-vcs'"), f.message());
        assertEquals(1, r.exitCode());
    }

    @Test
    void aDenyWithAStricterConditionDoesNotShadowAnAllow() {
        CheckResult r = check("""
                  - id: open
                    effect: allow
                    subjects: {devices: [vc-1]}
                    actions: [valve.open]
                  - id: not-in-maintenance
                    effect: deny
                    subjects: {devices: ["vc-*"]}
                    actions: [valve.*]
                    when: {siteMode: [maintenance]}
                """);
        assertEquals(List.of(), r.findings());
    }

    @Test
    void aRuleCoveredByAnEarlierRuleWithTheSameEffectIsRedundant() {
        CheckResult r = check("""
                  - id: broad
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.*]
                  - id: narrow
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open]
                    resources: {zones: [hall-a]}
                    when: {siteMode: [normal]}
                """);
        assertEquals(List.of("lint.redundant"), codes(r));
        assertEquals("narrow", r.findings().get(0).ruleId());
    }

    @Test
    void aRuleWhoseOnlyTimeWindowIsEmptyNeverMatches() {
        CheckResult r = check("""
                  - id: never
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open]
                    when:
                      timeWindows: [{from: "08:00", to: "08:00"}]
                """);
        assertEquals(List.of("lint.never_matches"), codes(r));
    }

    @Test
    void aTimeWindowWithNoDaysIsReportedAsEmpty() {
        CheckResult r = check("""
                  - id: partly
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open]
                    when:
                      timeWindows:
                        - {days: [], from: "08:00", to: "10:00"}
                        - {days: [mon], from: "08:00", to: "10:00"}
                """);
        assertEquals(List.of("lint.empty_time_window"), codes(r));
    }

    @Test
    void aZeroRateLimitAndAZeroCertificateAgeNeverMatch() {
        CheckResult r = check("""
                  - id: zero-rate
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open]
                    when: {rateLimit: {max: 0, per: 1m}}
                  - id: zero-age
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.close]
                    when: {certificateMaxAge: 0s}
                """);
        assertEquals(List.of("lint.never_matches", "lint.never_matches"), codes(r));
    }

    @Test
    void labelsOutsideTheVocabularyAreUnknown() {
        CheckResult r = check("""
                  - id: typo
                    effect: allow
                    subjects: {deviceLabels: {class: valve-controler}}
                    actions: [valve.open]
                    when: {resourceLabels: {hazzard: low, hazard: anything}}
                """);
        assertEquals(List.of("lint.unknown_label", "lint.unknown_label"), codes(r));
        assertTrue(r.findings().get(0).message().contains("class=valve-controler"), r.findings().get(0)::message);
        assertTrue(r.findings().get(1).message().contains("'hazzard'"), r.findings().get(1)::message);
        assertFalse(r.invalid());
        assertEquals(1, r.exitCode());
    }
}
