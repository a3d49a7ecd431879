package dev.siteward.policies;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.policies.PolicyException.Reason;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyLoaderErrorsTest {

    @TempDir
    Path dir;

    private static final String GOOD_RULE = """
              - id: ok
                effect: allow
                subjects: {devices: [d1]}
                actions: [valve.open]
            """;

    private PolicyException loadFails(String fileText) {
        Bundles.write(dir, "policy.yaml", fileText);
        return assertThrows(PolicyException.class, () -> PolicyLoader.load(dir, SiteConfig.DEFAULTS));
    }

    private void assertAt(PolicyException e, Reason reason, int line, int column) {
        assertEquals(reason, e.reason(), e::getMessage);
        assertEquals(dir.resolve("policy.yaml"), e.location().file());
        assertEquals(line, e.location().line(), e::getMessage);
        assertEquals(column, e.location().column(), e::getMessage);
        assertTrue(e.problems().get(0).toString().startsWith(dir.resolve("policy.yaml") + ":" + line + ":" + column
                + ": " + reason.code() + ": "), e::getMessage);
    }

    @Test
    void malformedYamlIsASyntaxErrorAtItsLineAndColumn() {
        PolicyException e = loadFails("schemaVersion: 1\nrules:\n  - id: x\n    effect: [allow\n");
        assertEquals(Reason.SYNTAX, e.reason());
        assertEquals("policy.syntax", e.code());
        assertTrue(e.location().line() >= 4, e::getMessage);
        assertTrue(e.location().column() > 0, e::getMessage);
    }

    @Test
    void aDuplicateKeyIsASyntaxErrorAtTheSecondKey() {
        PolicyException e = loadFails("schemaVersion: 1\nrules:\n  - id: x\n    id: y\n");
        assertAt(e, Reason.SYNTAX, 4, 5);
        assertTrue(e.getMessage().contains("duplicate key 'id'"), e::getMessage);
    }

    @Test
    void anUnknownKeyIsReportedAtTheKey() {
        PolicyException e = loadFails("schemaVersion: 1\nrules:\n" + GOOD_RULE.replace("effect: allow",
                "effect: allow\n    efect: deny"));
        assertAt(e, Reason.UNKNOWN_KEY, 5, 5);
        assertTrue(e.getMessage().contains("unknown key 'efect'"), e::getMessage);
    }

    @Test
    void anUnknownTopLevelKeyIsReportedAtTheKey() {
        PolicyException e = loadFails("schemaVersion: 1\nrulez: []\nrules: []\n");
        assertAt(e, Reason.UNKNOWN_KEY, 2, 1);
    }

    @Test
    void aWrongTypeIsASchemaErrorAtTheValue() {
        PolicyException e = loadFails("schemaVersion: 1\nrules:\n" + GOOD_RULE.replace("actions: [valve.open]",
                "actions: valve.open"));
        assertAt(e, Reason.SCHEMA, 6, 14);
        assertTrue(e.getMessage().contains("wrong type"), e::getMessage);
    }

    @Test
    void aMissingRequiredKeyIsReportedAtTheRule() {
        PolicyException e = loadFails("schemaVersion: 1\nrules:\n" + GOOD_RULE.replace("    effect: allow\n", ""));
        assertAt(e, Reason.SCHEMA, 3, 5);
        assertTrue(e.getMessage().contains("missing required key 'effect'"), e::getMessage);
    }

    @Test
    void anInvalidEffectIsASchemaError() {
        PolicyException e = loadFails("schemaVersion: 1\nrules:\n" + GOOD_RULE.replace("effect: allow",
                "effect: permit"));
        assertAt(e, Reason.SCHEMA, 4, 13);
    }

    @Test
    void aMisplacedActionWildcardIsReportedAtThePattern() {
        PolicyException e = loadFails("schemaVersion: 1\nrules:\n" + GOOD_RULE.replace("[valve.open]",
                "[valve.open, \"valve*\"]"));
        assertAt(e, Reason.BAD_WILDCARD, 6, 27);
        assertEquals("policy.bad_wildcard", e.code());
    }

    @Test
    void aWildcardInTheMiddleOfAnIdIsRefused() {
        PolicyException e = loadFails("schemaVersion: 1\nrules:\n" + GOOD_RULE.replace("devices: [d1]",
                "devices: [\"va*lve\"]"));
        assertAt(e, Reason.BAD_WILDCARD, 5, 26);
    }

    @Test
    void aWildcardInARoleIsRefused() {
        PolicyException e = loadFails("schemaVersion: 1\nrules:\n" + GOOD_RULE.replace("devices: [d1]",
                "roles: [\"op*\"]"));
        assertAt(e, Reason.BAD_WILDCARD, 5, 24);
    }

    @Test
    void anUnknownTimeZoneIsReportedAtTheZone() {
        PolicyException e = loadFails("schemaVersion: 1\nsite:\n  timeZone: Europe/Berln\nrules: []\n");
        assertAt(e, Reason.BAD_TIME_ZONE, 3, 13);
        assertTrue(e.getMessage().contains("Europe/Berln"), e::getMessage);
    }

    @Test
    void twoFilesWithDifferentTimeZonesConflict() {
        Bundles.write(dir, "a.yaml", "schemaVersion: 1\nsite: {timeZone: Europe/Berlin}\nrules: []\n");
        Bundles.write(dir, "b.yaml", "schemaVersion: 1\nsite: {timeZone: Europe/Paris}\nrules: []\n");
        PolicyException e = assertThrows(PolicyException.class, () -> PolicyLoader.load(dir, SiteConfig.DEFAULTS));
        assertEquals(Reason.SITE_CONFLICT, e.reason());
        assertEquals(dir.resolve("b.yaml"), e.location().file());
    }

    @Test
    void anImpossibleTimeOfDayIsABadTimeWindow() {
        PolicyException e = loadFails("schemaVersion: 1\nrules:\n" + GOOD_RULE
                + "    when:\n      timeWindows: [{from: \"25:00\", to: \"26:00\"}]\n");
        assertAt(e, Reason.BAD_TIME_WINDOW, 8, 28);
        assertEquals(2, e.problems().size(), "both from and to are reported");
    }

    @Test
    void aDuplicateIdAcrossFilesNamesBothPlaces() {
        Bundles.write(dir, "a.yaml", "schemaVersion: 1\nrules:\n" + GOOD_RULE);
        Bundles.write(dir, "b.yaml", "schemaVersion: 1\nrules:\n" + GOOD_RULE);
        PolicyException e = assertThrows(PolicyException.class, () -> PolicyLoader.load(dir, SiteConfig.DEFAULTS));
        assertEquals(Reason.DUPLICATE_ID, e.reason());
        assertEquals("policy.duplicate_id", e.code());
        assertEquals(new SourceLocation(dir.resolve("b.yaml"), 3, 9), e.location());
        assertTrue(e.getMessage().contains("first defined at " + dir.resolve("a.yaml") + ":3:5"), e::getMessage);
    }

    @Test
    void aMissingSchemaVersionIsRefused() {
        PolicyException e = loadFails("rules: []\n");
        assertEquals(Reason.SCHEMA_VERSION, e.reason());
    }

    @Test
    void anUnsupportedSchemaVersionIsReportedAtTheVersion() {
        PolicyException e = loadFails("schemaVersion: 2\nrules: []\n");
        assertAt(e, Reason.SCHEMA_VERSION, 1, 16);
    }

    @Test
    void oneBadFileRefusesTheWholeBundleAndEveryProblemIsListed() {
        Bundles.write(dir, "a-good.yaml", "schemaVersion: 1\nrules:\n" + GOOD_RULE);
        Bundles.write(dir, "b-bad.yaml", "schemaVersion: 1\nrules:\n" + GOOD_RULE.replace("ok", "other")
                .replace("effect: allow", "effect: allow\n    colour: red\n    shade: blue"));
        PolicyException e = assertThrows(PolicyException.class, () -> PolicyLoader.load(dir, SiteConfig.DEFAULTS));
        assertEquals(2, e.problems().size(), e::getMessage);
        assertTrue(e.problems().stream().allMatch(p -> p.reason() == Reason.UNKNOWN_KEY));
    }

    @Test
    void aDeviceIdThatYamlReadsAsANumberAsksForQuotes() {
        PolicyException e = loadFails("schemaVersion: 1\nrules:\n" + GOOD_RULE.replace("[d1]", "[0042]"));
        assertAt(e, Reason.SCHEMA, 5, 26);
        assertTrue(e.getMessage().contains("YAML read it as a number; put it in quotes"), e::getMessage);
    }

    @Test
    void aMalformedDurationSaysHowToWriteOne() {
        PolicyException e = loadFails("schemaVersion: 1\nrules:\n" + GOOD_RULE
                + "    when:\n      certificateMaxAge: 30 days\n");
        assertAt(e, Reason.SCHEMA, 8, 26);
        assertTrue(e.getMessage().contains("'30 days' is not a duration; write a number and a unit"), e::getMessage);
    }

    @Test
    void aFileThatIsNotAMappingIsASchemaError() {
        PolicyException e = loadFails("- just\n- a list\n");
        assertAt(e, Reason.SCHEMA, 1, 1);
    }

    @Test
    void anEmptyFileIsASyntaxError() {
        PolicyException e = loadFails("# only a comment\n");
        assertEquals(Reason.SYNTAX, e.reason());
    }

    @Test
    void twoYamlDocumentsInOneFileAreASyntaxError() {
        PolicyException e = loadFails("schemaVersion: 1\nrules: []\n---\nschemaVersion: 1\nrules: []\n");
        assertEquals(Reason.SYNTAX, e.reason());
        assertEquals(4, e.location().line());
    }

    @Test
    void aDirectoryWithoutPolicyFilesIsAnEmptyBundle() {
        PolicyException e = assertThrows(PolicyException.class, () -> PolicyLoader.load(dir, SiteConfig.DEFAULTS));
        assertEquals(Reason.EMPTY_BUNDLE, e.reason());
    }

    @Test
    void aMissingDirectoryIsAnIoError() {
        PolicyException e = assertThrows(PolicyException.class,
                () -> PolicyLoader.load(dir.resolve("nope"), SiteConfig.DEFAULTS));
        assertEquals(Reason.IO, e.reason());
    }

    @Test
    void theTestsFolderIsNotReadAsPolicy() {
        Bundles.write(dir, "policy.yaml", "schemaVersion: 1\nrules:\n" + GOOD_RULE);
        Bundles.write(dir, "tests/cases.yaml", "not: a policy\n");
        assertEquals(1, PolicyLoader.load(dir, SiteConfig.DEFAULTS).rules().size());
    }
}
