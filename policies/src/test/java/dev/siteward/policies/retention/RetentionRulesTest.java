package dev.siteward.policies.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.policies.PolicyException;
import dev.siteward.policies.PolicyException.Reason;
import dev.siteward.policies.PolicyLoader;
import dev.siteward.policies.PolicySet;
import dev.siteward.policies.SiteConfig;
import dev.siteward.policies.check.CheckResult;
import dev.siteward.policies.check.PolicyChecker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RetentionRulesTest {

    @TempDir
    Path dir;

    private static final String HEAD = "schemaVersion: 1\nrules: []\nretention:\n";

    private PolicyException loadFails(String text) throws IOException {
        Files.writeString(dir.resolve("retention.yaml"), text);
        return assertThrows(PolicyException.class, () -> PolicyLoader.load(dir, SiteConfig.DEFAULTS));
    }

    private static void assertAt(PolicyException e, Reason reason, int line, int column) {
        assertEquals(reason, e.reason(), e::getMessage);
        assertEquals(line, e.location().line(), e::getMessage);
        assertEquals(column, e.location().column(), e::getMessage);
    }

    @Test
    void theExampleBundleCarriesRetentionForEveryClass() {
        PolicySet set = PolicyLoader.load(Path.of("examples/plant-north"), SiteConfig.DEFAULTS);
        RetentionRules r = set.retention();
        assertEquals(Set.of(DataClass.values()), r.classes().keySet());
        ClassRule readings = r.rule(DataClass.SENSOR_READINGS).orElseThrow();
        assertEquals(Duration.ofDays(90), readings.maxAge());
        assertEquals(20_000_000_000L, readings.maxBytes());
        assertEquals(Set.of("location"), readings.drop());
        assertEquals(Set.of("operator"), readings.hash());
        assertEquals(Set.of("sensor", "value", "unit", "quality"), readings.export().fields());
        assertFalse(readings.export().aggregatesOnly());
        ClassRule blobs = r.rule(DataClass.BLOBS).orElseThrow();
        assertEquals(1L << 20, blobs.maxItemBytes());
        assertTrue(blobs.export().aggregatesOnly());
        assertSame(ExportRule.NONE, r.rule(DataClass.DEVICE_LOGS).orElseThrow().export());
        assertEquals(1, r.holds().size());
        LegalHold h = r.holds().get(0);
        assertTrue(h.holds(DataClass.DEVICE_LOGS, "plc-7", Map.of("line", "line-2"),
                Instant.parse("2026-10-15T00:00:00Z")));
        assertFalse(h.holds(DataClass.DEVICE_LOGS, "plc-7", Map.of("line", "line-1"),
                Instant.parse("2026-10-15T00:00:00Z")), "other line");
        assertFalse(h.holds(DataClass.DEVICE_LOGS, "plc-7", Map.of("line", "line-2"),
                Instant.parse("2026-11-01T00:00:00Z")), "until is exclusive");
        assertFalse(h.holds(DataClass.INFERENCE_RESULTS, "plc-7", Map.of("line", "line-2"),
                Instant.parse("2026-10-15T00:00:00Z")), "class not held");
    }

    @Test
    void theExampleBundlePassesPolicyCheck() {
        CheckResult r = PolicyChecker.check(Path.of("examples/plant-north"), SiteConfig.DEFAULTS);
        assertEquals(java.util.List.of(), r.findings());
    }

    @Test
    void aBundleWithoutRetentionHasNoRules() throws IOException {
        Files.writeString(dir.resolve("p.yaml"), "schemaVersion: 1\nrules: []\n");
        assertTrue(PolicyLoader.load(dir, SiteConfig.DEFAULTS).retention().isEmpty());
    }

    @Test
    void anUnknownClassIsRefusedAtItsKey() throws IOException {
        PolicyException e = loadFails(HEAD + "  classes:\n    camera-frames:\n      fields: [a]\n");
        assertAt(e, Reason.UNKNOWN_KEY, 5, 5);
        assertTrue(e.getMessage().contains("camera-frames"), e::getMessage);
    }

    @Test
    void anUnknownFieldInMinimisationIsRefusedAtTheField() throws IOException {
        PolicyException e = loadFails(HEAD + "  classes:\n    sensor-readings:\n      fields: [value, operator]\n"
                + "      minimise:\n        hash: [operator, opertor]\n");
        assertAt(e, Reason.UNKNOWN_FIELD, 8, 26);
        assertTrue(e.getMessage().contains("unknown field 'opertor'"), e::getMessage);
        assertEquals("policy.unknown_field", e.code());
    }

    @Test
    void anUnknownExportFieldIsRefused() throws IOException {
        PolicyException e = loadFails(HEAD + "  classes:\n    device-logs:\n      fields: [level]\n"
                + "      export:\n        fields: [message]\n");
        assertAt(e, Reason.UNKNOWN_FIELD, 8, 18);
    }

    @Test
    void aDroppedFieldCannotBeExported() throws IOException {
        PolicyException e = loadFails(HEAD + "  classes:\n    device-logs:\n      fields: [level, host]\n"
                + "      minimise: {drop: [host]}\n      export:\n        fields: [level, host]\n");
        assertAt(e, Reason.UNKNOWN_FIELD, 9, 25);
    }

    @Test
    void blobsCarryNoFields() throws IOException {
        PolicyException e = loadFails(HEAD + "  classes:\n    blobs:\n      fields: [a]\n");
        assertAt(e, Reason.UNKNOWN_KEY, 6, 7);
    }

    @Test
    void aHoldNamingAnUnknownClassIsRefusedAtTheName() throws IOException {
        PolicyException e = loadFails(HEAD + "  holds:\n    - id: h1\n      reason: case 12\n"
                + "      classes: [sensor-readings, images]\n");
        assertAt(e, Reason.UNKNOWN_CLASS, 7, 34);
    }

    @Test
    void aHoldWithAnEmptyTimeRangeOrABadInstantIsRefused() throws IOException {
        PolicyException e = loadFails(HEAD + "  holds:\n    - id: h1\n      reason: case 12\n"
                + "      since: \"2026-02-01T00:00:00Z\"\n      until: \"2026-01-01T00:00:00Z\"\n");
        assertAt(e, Reason.BAD_RETENTION, 8, 14);
        e = loadFails(HEAD + "  holds:\n    - id: h1\n      reason: case 12\n      since: yesterday\n");
        assertAt(e, Reason.BAD_RETENTION, 7, 14);
    }

    @Test
    void aHoldThatSelectsNothingIsRefused() throws IOException {
        PolicyException e = loadFails(HEAD + "  holds:\n    - id: h1\n      reason: case 12\n");
        assertEquals(Reason.BAD_RETENTION, e.reason());
    }

    @Test
    void aClassDefinedInTwoFilesIsADuplicate() throws IOException {
        Files.writeString(dir.resolve("a.yaml"), HEAD + "  classes:\n    device-logs:\n      fields: [level]\n");
        PolicyException e = loadFails(HEAD + "  classes:\n    device-logs:\n      fields: [level]\n");
        assertEquals(Reason.DUPLICATE_ID, e.reason());
        assertTrue(e.getMessage().contains("a.yaml"), e::getMessage);
    }

    @Test
    void sizesAndAgesAreCheckedForRange() throws IOException {
        PolicyException e = loadFails(HEAD + "  classes:\n    device-logs:\n      fields: [level]\n"
                + "      maxSize: 99999999999TB\n");
        assertAt(e, Reason.BAD_RETENTION, 7, 16);
        e = loadFails(HEAD + "  classes:\n    device-logs:\n      fields: [level]\n      maxAge: 0d\n");
        assertAt(e, Reason.BAD_RETENTION, 7, 15);
        e = loadFails(HEAD + "  classes:\n    device-logs:\n      fields: [level]\n      maxSize: 10 MB\n");
        assertEquals(Reason.SCHEMA, e.reason());
    }
}
