package dev.siteward.policies;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every condition, decided through {@link PolicyDecider} with a fixed or hand-moved clock. */
class ConditionsTest {

    /** Monday 2 March 2026, 08:00 in Berlin (CET, UTC+1). */
    static final Instant MONDAY_0800_BERLIN = Instant.parse("2026-03-02T07:00:00Z");

    @TempDir
    Path dir;

    private static PolicyDecider at(PolicySet set, Instant now) {
        return new PolicyDecider(set, Clock.fixed(now, ZoneOffset.UTC), RateLimitState.NONE);
    }

    private static AccessRequest operator(String mode, Resource resource) {
        return new AccessRequest(Subject.admin("olga", Set.of("operator"), null), "valve.open", resource,
                new RequestContext(mode));
    }

    private static final Resource VALVE = new Resource("valve-1", "hall-a", Map.of("hazard", "low"));

    @Test
    void aTimeWindowIsReadInTheSiteTimeZone() {
        PolicySet set = Bundles.load(dir, """
                  - id: shift
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open]
                    when:
                      timeWindows: [{days: [mon-fri], from: "08:00", to: "18:00"}]
                """);
        assertTrue(at(set, MONDAY_0800_BERLIN).decide(operator(null, VALVE)).allowed());
        assertFalse(at(set, MONDAY_0800_BERLIN.minusSeconds(60)).decide(operator(null, VALVE)).allowed());
        assertTrue(at(set, Instant.parse("2026-03-02T16:59:00Z")).decide(operator(null, VALVE)).allowed());
        assertFalse(at(set, Instant.parse("2026-03-02T17:00:00Z")).decide(operator(null, VALVE)).allowed(),
                "the end of a window is exclusive");
        assertFalse(at(set, Instant.parse("2026-03-07T09:00:00Z")).decide(operator(null, VALVE)).allowed(),
                "Saturday is not in mon-fri");
    }

    @Test
    void aBundleTimeZoneOverridesTheSiteConfig() {
        Bundles.write(dir, "site.yaml", "schemaVersion: 1\nsite: {timeZone: America/New_York}\nrules: []\n");
        PolicySet set = Bundles.load(dir, """
                  - id: shift
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open]
                    when:
                      timeWindows: [{from: "08:00", to: "09:00"}]
                """);
        assertEquals("America/New_York", set.timeZone().getId());
        assertTrue(at(set, Instant.parse("2026-03-02T13:30:00Z")).decide(operator(null, VALVE)).allowed());
        assertFalse(at(set, MONDAY_0800_BERLIN).decide(operator(null, VALVE)).allowed());
    }

    @Test
    void anOvernightWindowRunsIntoTheNextDay() {
        PolicySet set = Bundles.load(dir, """
                  - id: night
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open]
                    when:
                      timeWindows: [{days: [sat], from: "22:00", to: "06:00"}]
                """);
        assertTrue(at(set, Instant.parse("2026-03-07T21:00:00Z")).decide(operator(null, VALVE)).allowed());
        assertTrue(at(set, Instant.parse("2026-03-08T04:59:00Z")).decide(operator(null, VALVE)).allowed());
        assertFalse(at(set, Instant.parse("2026-03-08T05:00:00Z")).decide(operator(null, VALVE)).allowed());
        assertFalse(at(set, Instant.parse("2026-03-07T04:00:00Z")).decide(operator(null, VALVE)).allowed(),
                "Saturday early morning belongs to Friday's window, which does not exist");
    }

    @Test
    void aWindowToMidnightIsWrittenAs2400() {
        PolicySet set = Bundles.load(dir, """
                  - id: evening
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open]
                    when:
                      timeWindows: [{from: "20:00", to: "24:00"}]
                """);
        assertTrue(at(set, Instant.parse("2026-03-02T22:59:00Z")).decide(operator(null, VALVE)).allowed());
        assertFalse(at(set, Instant.parse("2026-03-02T23:00:00Z")).decide(operator(null, VALVE)).allowed());
    }

    @Test
    void aSiteModeConditionHoldsOnlyInTheListedModes() {
        PolicySet set = Bundles.load(dir, """
                  - id: maint
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open]
                    when: {siteMode: [maintenance]}
                """);
        PolicyDecider d = at(set, MONDAY_0800_BERLIN);
        assertTrue(d.decide(operator("maintenance", VALVE)).allowed());
        assertFalse(d.decide(operator("normal", VALVE)).allowed());
        Decision none = d.decide(operator(null, VALVE));
        assertFalse(none.allowed(), "no mode means normal");
        assertTrue(none.reason().contains("site mode 'normal' is not in [maintenance]"), none.reason());
    }

    @Test
    void certificateFreshnessComparesNotBeforeWithTheClock() {
        PolicySet set = Bundles.load(dir, """
                  - id: fresh
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open]
                    when: {certificateMaxAge: 1d}
                """);
        PolicyDecider d = at(set, MONDAY_0800_BERLIN);
        AccessRequest fresh = new AccessRequest(Subject.admin("o", Set.of("operator"),
                MONDAY_0800_BERLIN.minus(Duration.ofHours(23))), "valve.open", VALVE, null);
        AccessRequest stale = new AccessRequest(Subject.admin("o", Set.of("operator"),
                MONDAY_0800_BERLIN.minus(Duration.ofHours(25))), "valve.open", VALVE, null);
        AccessRequest unknown = new AccessRequest(Subject.admin("o", Set.of("operator"), null), "valve.open",
                VALVE, null);
        assertTrue(d.decide(fresh).allowed());
        assertFalse(d.decide(stale).allowed());
        assertFalse(d.decide(unknown).allowed(), "an unknown certificate age never counts as fresh");
        assertTrue(d.decide(stale).reason().contains("is older than PT24H"), d.decide(stale).reason());
    }

    @Test
    void resourceLabelsMustAllBeCarriedByTheResource() {
        PolicySet set = Bundles.load(dir, """
                  - id: low
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open]
                    when: {resourceLabels: {hazard: low}}
                """);
        PolicyDecider d = at(set, MONDAY_0800_BERLIN);
        assertTrue(d.decide(operator(null, VALVE)).allowed());
        assertFalse(d.decide(operator(null, new Resource("valve-2", "hall-a", Map.of("hazard", "high")))).allowed());
        assertFalse(d.decide(operator(null, new Resource("valve-3", "hall-a", Map.of()))).allowed());
    }

    @Test
    void aRateLimitCountsAllowedUsesPerSubjectAndActionInASlidingWindow() {
        PolicySet set = Bundles.load(dir, """
                  - id: limited
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open, valve.close]
                    when:
                      rateLimit: {max: 2, per: 1m}
                """);
        Bundles.MutableClock clock = new Bundles.MutableClock(MONDAY_0800_BERLIN);
        PolicyDecider d = new PolicyDecider(set, clock, new InMemoryRateLimitState());
        assertTrue(d.decide(operator(null, VALVE)).allowed());
        clock.advance(Duration.ofSeconds(10));
        assertTrue(d.decide(operator(null, VALVE)).allowed());
        Decision third = d.decide(operator(null, VALVE));
        assertFalse(third.allowed());
        assertTrue(third.reason().contains("rate limit of 2 per PT1M is used up"), third.reason());
        AccessRequest close = new AccessRequest(Subject.admin("olga", Set.of("operator"), null), "valve.close",
                VALVE, null);
        assertTrue(d.decide(close).allowed(), "another action has its own budget");
        AccessRequest otherSubject = new AccessRequest(Subject.admin("omar", Set.of("operator"), null),
                "valve.open", VALVE, null);
        assertTrue(d.decide(otherSubject).allowed(), "another subject has its own budget");
        clock.advance(Duration.ofSeconds(51));
        assertTrue(d.decide(operator(null, VALVE)).allowed(), "the first use left the window after 60 s");
        assertFalse(d.decide(operator(null, VALVE)).allowed());
    }

    @Test
    void concurrentRequestsCannotOverrunARateLimit() throws Exception {
        PolicySet set = Bundles.load(dir, """
                  - id: limited
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open]
                    when:
                      rateLimit: {max: 25, per: 1h}
                """);
        PolicyDecider d = new PolicyDecider(set, Clock.fixed(MONDAY_0800_BERLIN, ZoneOffset.UTC),
                new InMemoryRateLimitState());
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            java.util.List<java.util.concurrent.Future<Boolean>> results = new java.util.ArrayList<>();
            for (int i = 0; i < 200; i++) {
                results.add(pool.submit(() -> d.decide(operator(null, VALVE)).allowed()));
            }
            int allowed = 0;
            for (java.util.concurrent.Future<Boolean> f : results) {
                allowed += f.get() ? 1 : 0;
            }
            assertEquals(25, allowed);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void deniedRequestsDoNotConsumeARateLimit() {
        PolicySet set = Bundles.load(dir, """
                  - id: limited
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open]
                    when:
                      rateLimit: {max: 1, per: 1h}
                  - id: not-hall-b
                    effect: deny
                    subjects: {anyone: true}
                    actions: [valve.open]
                    resources: {zones: [hall-b]}
                """);
        PolicyDecider d = new PolicyDecider(set, Clock.fixed(MONDAY_0800_BERLIN, ZoneOffset.UTC),
                new InMemoryRateLimitState());
        assertFalse(d.decide(operator(null, new Resource("valve-9", "hall-b", Map.of()))).allowed());
        assertTrue(d.decide(operator(null, VALVE)).allowed());
        assertFalse(d.decide(operator(null, VALVE)).allowed());
    }

    @Test
    void explainNamesEveryRuleAndTheFirstCheckThatFailed() {
        PolicySet set = Bundles.load(dir, """
                  - id: wrong-action
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [conveyor.*]
                  - id: wrong-subject
                    effect: allow
                    subjects: {admins: [root]}
                    actions: [valve.open]
                  - id: wrong-time
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.open]
                    when:
                      timeWindows: [{from: "20:00", to: "22:00"}]
                  - id: applies
                    effect: allow
                    subjects: {roles: [operator]}
                    actions: [valve.*]
                """);
        Explanation e = at(set, MONDAY_0800_BERLIN).explain(operator(null, VALVE));
        assertTrue(e.decision().allowed());
        assertEquals(4, e.rules().size());
        assertEquals("action 'valve.open' is not in [conveyor.*]", e.rules().get(0).why());
        assertEquals("admin 'olga' is not selected by admins [root]", e.rules().get(1).why());
        assertEquals("the time mon 08:00 is outside [mon,tue,wed,thu,fri,sat,sun 20:00-22:00]",
                e.rules().get(2).why());
        assertTrue(e.rules().get(3).matched());
        assertEquals("matches", e.rules().get(3).why());
        assertEquals(17, e.rules().get(3).location().line());
    }
}
