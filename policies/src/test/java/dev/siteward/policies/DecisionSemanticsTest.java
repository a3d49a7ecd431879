package dev.siteward.policies;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DecisionSemanticsTest {

    static final Instant NOW = Instant.parse("2026-03-02T08:00:00Z");

    @TempDir
    Path dir;

    private static Decision decide(PolicySet set, AccessRequest r) {
        return set.evaluate(r, NOW, RateLimitState.NONE);
    }

    private static AccessRequest valveController(String action, String resource) {
        return Bundles.device("vc-01", Map.of("class", "valve-controller"), action, resource);
    }

    @Test
    void anEmptySetDeniesEverythingByDefault() {
        PolicySet set = Bundles.load(dir, "  []\n");
        Decision d = decide(set, valveController("valve.open", "valve-1"));
        assertEquals(Effect.DENY, d.effect());
        assertTrue(d.ruleIds().isEmpty());
        assertTrue(d.reason().contains("deny by default"), d.reason());
    }

    @Test
    void aMatchingAllowRuleAllowsAndIsNamed() {
        PolicySet set = Bundles.load(dir, """
                  - id: vc-open
                    description: valve controllers open valves
                    effect: allow
                    subjects: {deviceLabels: {class: valve-controller}}
                    actions: [valve.open]
                """);
        Decision d = decide(set, valveController("valve.open", "valve-1"));
        assertEquals(Effect.ALLOW, d.effect());
        assertEquals(List.of("vc-open"), d.ruleIds());
        assertEquals("allowed by rule 'vc-open' (valve controllers open valves)", d.reason());
    }

    @Test
    void denyOverridesAllowWhateverTheOrder() {
        PolicySet set = Bundles.load(dir, """
                  - id: no-open
                    effect: deny
                    subjects: {devices: [vc-01]}
                    actions: [valve.open]
                  - id: vc-open
                    effect: allow
                    subjects: {deviceLabels: {class: valve-controller}}
                    actions: [valve.*]
                """);
        Decision d = decide(set, valveController("valve.open", "valve-1"));
        assertEquals(Effect.DENY, d.effect());
        assertEquals(List.of("no-open"), d.ruleIds());
        assertTrue(d.reason().contains("deny overrides 1 matching allow rule"), d.reason());
        assertEquals(Effect.ALLOW, decide(set, valveController("valve.close", "valve-1")).effect());
    }

    @Test
    void allMatchingAllowRulesAreReportedInBundleOrder() {
        PolicySet set = Bundles.load(dir, """
                  - id: b-by-label
                    effect: allow
                    subjects: {deviceLabels: {class: valve-controller}}
                    actions: [valve.*]
                  - id: a-by-id
                    effect: allow
                    subjects: {devices: [vc-01]}
                    actions: [valve.open]
                """);
        assertEquals(List.of("b-by-label", "a-by-id"), decide(set, valveController("valve.open", "v")).ruleIds());
    }

    @Test
    void anActionWildcardMatchesEveryActionBelowItButNotThePrefixItself() {
        PolicySet set = Bundles.load(dir, """
                  - id: valves
                    effect: allow
                    subjects: {devices: [vc-01]}
                    actions: [valve.*]
                """);
        assertTrue(decide(set, valveController("valve.open", "v")).allowed());
        assertTrue(decide(set, valveController("valve.setpoint.set", "v")).allowed());
        assertFalse(decide(set, valveController("valve", "v")).allowed());
        assertFalse(decide(set, valveController("valves.open", "v")).allowed());
        assertFalse(decide(set, valveController("conveyor.start", "v")).allowed());
    }

    @Test
    void aLoneStarActionMatchesEveryAction() {
        PolicySet set = Bundles.load(dir, """
                  - id: all
                    effect: allow
                    subjects: {devices: [vc-01]}
                    actions: ["*"]
                """);
        assertTrue(decide(set, valveController("conveyor.speed.set", "v")).allowed());
        assertTrue(decide(set, valveController("reboot", "v")).allowed());
    }

    @Test
    void aNestedActionWildcardMatchesOnlyItsSubtree() {
        PolicySet set = Bundles.load(dir, """
                  - id: fw
                    effect: allow
                    subjects: {devices: [vc-01]}
                    actions: [valve.firmware.*]
                """);
        assertTrue(decide(set, valveController("valve.firmware.update", "v")).allowed());
        assertFalse(decide(set, valveController("valve.open", "v")).allowed());
    }

    @Test
    void idWildcardsMatchByPrefixForSubjectsAndResources() {
        PolicySet set = Bundles.load(dir, """
                  - id: cams
                    effect: allow
                    subjects: {devices: ["vc-*"]}
                    actions: [valve.open]
                    resources: {ids: ["valve-a-*"]}
                """);
        assertTrue(decide(set, valveController("valve.open", "valve-a-7")).allowed());
        assertFalse(decide(set, valveController("valve.open", "valve-b-7")).allowed());
        assertFalse(decide(set, Bundles.device("cam-1", Map.of(), "valve.open", "valve-a-7")).allowed());
    }

    @Test
    void aDeviceSelectorNeverSelectsAnAdminWithTheSameName() {
        PolicySet set = Bundles.load(dir, """
                  - id: dev
                    effect: allow
                    subjects: {devices: [alice]}
                    actions: [valve.open]
                """);
        assertFalse(decide(set, Bundles.admin("alice", Set.of(), "valve.open", new Resource("v", null, Map.of())))
                .allowed());
        assertTrue(decide(set, Bundles.device("alice", Map.of(), "valve.open", "v")).allowed());
    }

    @Test
    void aRoleSelectsSubjectsOfEveryKindThatHoldIt() {
        PolicySet set = Bundles.load(dir, """
                  - id: ops
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open]
                """);
        Resource v = new Resource("v", null, Map.of());
        assertTrue(decide(set, Bundles.admin("olga", Set.of("viewer", "operator"), "valve.open", v)).allowed());
        assertFalse(decide(set, Bundles.admin("vic", Set.of("viewer"), "valve.open", v)).allowed());
        assertTrue(decide(set, new AccessRequest(new Subject("sched", SubjectKind.SERVICE, Set.of("operator"),
                Map.of(), null), "valve.open", v, RequestContext.NORMAL)).allowed());
    }

    @Test
    void deviceLabelsMustAllBePresent() {
        PolicySet set = Bundles.load(dir, """
                  - id: l1
                    effect: allow
                    subjects: {deviceLabels: {class: conveyor-plc, line: line-1}}
                    actions: [conveyor.start]
                """);
        assertTrue(decide(set, Bundles.device("p", Map.of("class", "conveyor-plc", "line", "line-1", "x", "y"),
                "conveyor.start", "c")).allowed());
        assertFalse(decide(set, Bundles.device("p", Map.of("class", "conveyor-plc", "line", "line-2"),
                "conveyor.start", "c")).allowed());
        assertFalse(decide(set, Bundles.device("p", Map.of("class", "conveyor-plc"), "conveyor.start", "c"))
                .allowed());
    }

    @Test
    void resourceIdsAndZonesMustBothMatchWhenBothAreGiven() {
        PolicySet set = Bundles.load(dir, """
                  - id: hall-a-valves
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open]
                    resources: {ids: ["valve-*"], zones: [hall-a]}
                """);
        Set<String> op = Set.of("operator");
        assertTrue(decide(set, Bundles.admin("o", op, "valve.open", new Resource("valve-1", "hall-a", Map.of())))
                .allowed());
        assertFalse(decide(set, Bundles.admin("o", op, "valve.open", new Resource("valve-1", "hall-b", Map.of())))
                .allowed());
        assertFalse(decide(set, Bundles.admin("o", op, "valve.open", new Resource("valve-1", null, Map.of())))
                .allowed());
        assertFalse(decide(set, Bundles.admin("o", op, "valve.open", new Resource("pump-1", "hall-a", Map.of())))
                .allowed());
    }

    @Test
    void anyoneSelectsEverySubject() {
        PolicySet set = Bundles.load(dir, """
                  - id: estop
                    effect: allow
                    subjects: {anyone: true}
                    actions: [conveyor.stop]
                """);
        assertTrue(decide(set, Bundles.device("whatever", Map.of(), "conveyor.stop", "c")).allowed());
        assertTrue(decide(set, Bundles.admin("x", Set.of(), "conveyor.stop", new Resource("c", null, Map.of())))
                .allowed());
    }

    @Test
    void theIndexedEvaluationAgreesWithALinearScanOnRandomRulesAndRequests() {
        Random rnd = new Random(42);
        String[] actions = {"valve.open", "valve.close", "valve.*", "valve.fw.*", "conveyor.start", "*", "camera.view"};
        String[] devices = {"d1", "d2", "d*", "cam-1", "*"};
        StringBuilder yaml = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            yaml.append("  - id: r").append(i).append('\n')
                    .append("    effect: ").append(rnd.nextInt(4) == 0 ? "deny" : "allow").append('\n');
            switch (rnd.nextInt(4)) {
                case 0 -> yaml.append("    subjects: {devices: [\"").append(devices[rnd.nextInt(devices.length)])
                        .append("\"]}\n");
                case 1 -> yaml.append("    subjects: {roles: [r").append(rnd.nextInt(3)).append("]}\n");
                case 2 -> yaml.append("    subjects: {deviceLabels: {class: c").append(rnd.nextInt(3)).append("}}\n");
                default -> yaml.append("    subjects: {admins: [a").append(rnd.nextInt(3)).append("], devices: [d")
                        .append(rnd.nextInt(3)).append("]}\n");
            }
            yaml.append("    actions: [\"").append(actions[rnd.nextInt(actions.length)]).append("\"]\n");
            if (rnd.nextBoolean()) {
                yaml.append("    resources: {ids: [\"v").append(rnd.nextInt(3)).append("*\"]}\n");
            }
        }
        PolicySet set = Bundles.load(dir, yaml.toString());
        List<AccessRequest> requests = new ArrayList<>();
        String[] requestActions = {"valve.open", "valve.close", "valve.fw.flash", "conveyor.start", "camera.view", "x"};
        for (int i = 0; i < 2000; i++) {
            Subject s = switch (rnd.nextInt(3)) {
                case 0 -> Subject.device("d" + rnd.nextInt(4), Map.of("class", "c" + rnd.nextInt(4)), null);
                case 1 -> Subject.admin("a" + rnd.nextInt(4), Set.of("r" + rnd.nextInt(4)), null);
                default -> Subject.device("cam-" + rnd.nextInt(2), Map.of(), null);
            };
            requests.add(new AccessRequest(s, requestActions[rnd.nextInt(requestActions.length)],
                    new Resource("v" + rnd.nextInt(4) + "x", null, Map.of()), RequestContext.NORMAL));
        }
        int allowed = 0;
        for (AccessRequest r : requests) {
            Effect indexed = decide(set, r).effect();
            assertEquals(set.evaluateByScan(r, NOW, RateLimitState.NONE), indexed, r::toString);
            assertEquals(set.explain(r, NOW, RateLimitState.NONE).decision().effect(), indexed);
            allowed += indexed == Effect.ALLOW ? 1 : 0;
        }
        assertTrue(allowed > 100 && allowed < 1900, "the random set should both allow and deny: " + allowed);
    }
}
