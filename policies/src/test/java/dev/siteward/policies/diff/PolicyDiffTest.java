package dev.siteward.policies.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.policies.AccessRequest;
import dev.siteward.policies.Bundles;
import dev.siteward.policies.Effect;
import dev.siteward.policies.PolicySet;
import dev.siteward.policies.RequestContext;
import dev.siteward.policies.Resource;
import dev.siteward.policies.Subject;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyDiffTest {

    @TempDir
    Path oldDir;
    @TempDir
    Path newDir;

    private static final String OPERATORS_ON_SHIFT = """
              - id: ops
                effect: allow
                subjects: {roles: [operator]}
                actions: [valve.open]
                resources: {ids: ["valve-*"]}
                when:
                  timeWindows: [{days: [mon-fri], from: "06:00", to: "18:00"}]
            """;

    @Test
    void identicalBundlesHaveNoDifferences() {
        PolicySet a = Bundles.load(oldDir, OPERATORS_ON_SHIFT);
        PolicySet b = Bundles.load(newDir, OPERATORS_ON_SHIFT);
        assertEquals(List.of(), PolicyDiff.compare(a, b));
    }

    @Test
    void wideningAWindowReportsTheNewlyAllowedCombination() {
        PolicySet a = Bundles.load(oldDir, OPERATORS_ON_SHIFT);
        PolicySet b = Bundles.load(newDir, OPERATORS_ON_SHIFT.replace("18:00", "22:00"));
        List<DiffEntry> d = PolicyDiff.compare(a, b);
        assertEquals(1, d.size(), d::toString);
        DiffEntry e = d.get(0);
        assertEquals(DiffEntry.Change.NEWLY_ALLOWED, e.change());
        assertEquals("~role:operator", e.subject().id());
        assertEquals("valve.open", e.action());
        assertEquals("valve-*", e.resource().id());
        assertEquals(List.of("ops"), e.newRuleIds());
        assertEquals(Instant.parse("2026-01-05T17:00:00Z"), e.exampleTime(), "Monday 18:00 in Berlin");
    }

    @Test
    void aNewDenyReportsTheNewlyDeniedCombinations() {
        PolicySet a = Bundles.load(oldDir, OPERATORS_ON_SHIFT);
        PolicySet b = Bundles.load(newDir, OPERATORS_ON_SHIFT + """
                  - id: valve-7-broken
                    effect: deny
                    subjects: {anyone: true}
                    actions: ["valve.*"]
                    resources: {ids: [valve-7]}
                """);
        List<DiffEntry> d = PolicyDiff.compare(a, b);
        assertTrue(d.stream().allMatch(e -> e.change() == DiffEntry.Change.NEWLY_DENIED), d::toString);
        assertTrue(d.stream().anyMatch(e -> e.subject().id().equals("~role:operator")
                && e.resource().id().equals("valve-7")), d::toString);
    }

    @Test
    void replayReportsOnlyRecordedDecisionsThatWouldChange() {
        PolicySet b = Bundles.load(newDir, OPERATORS_ON_SHIFT);
        AccessRequest open = new AccessRequest(Subject.admin("olga", Set.of("operator"), null), "valve.open",
                new Resource("valve-1", null, Map.of()), RequestContext.NORMAL);
        RecordedDecision duringShift = new RecordedDecision("d1", open, Instant.parse("2026-03-02T08:00:00Z"),
                Effect.ALLOW);
        RecordedDecision lateEvening = new RecordedDecision("d2", open, Instant.parse("2026-03-02T20:00:00Z"),
                Effect.ALLOW);
        List<ReplayChange> changes = PolicyDiff.replay(List.of(duringShift, lateEvening), b);
        assertEquals(1, changes.size());
        assertEquals("d2", changes.get(0).recorded().decisionId());
        assertEquals(Effect.DENY, changes.get(0).now().effect());
    }
}
