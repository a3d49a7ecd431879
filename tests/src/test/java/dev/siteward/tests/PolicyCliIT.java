package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.tests.Processes.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code siteward policy check | test | explain | diff | sign | verify} on copies of the example bundle
 * {@code policies/examples/plant-north}, with a publisher chain from {@code siteward ca --kind publisher}.
 */
class PolicyCliIT {

    @TempDir
    static Path shared;
    static Path keys;
    static ModelCliIT.PublisherChain publisher;

    @TempDir
    Path work;

    @BeforeAll
    static void publisherKeysAndChain() throws IOException {
        keys = shared.resolve("keys");
        Result keygen = siteward(shared, "model", "keygen", "--out", keys.toString(), "--name", "security-team");
        assertEquals(0, keygen.exitCode(), keygen.both());
        publisher = ModelCliIT.PublisherChain.create(shared, keys.resolve("publisher.csr"));
    }

    private static Result siteward(Path dir, String... args) {
        return Processes.run(dir, Map.of(), Processes.siteward(args));
    }

    private Result siteward(String... args) {
        return siteward(work, args);
    }

    private static Path example() {
        return Path.of(System.getProperty("siteward.repo.dir"), "policies", "examples", "plant-north");
    }

    /** Copies the example bundle (policy files and tests) to {@code work/name}. */
    private Path copyOfExample(String name) throws IOException {
        Path dst = work.resolve(name);
        Files.createDirectories(dst.resolve("tests"));
        for (String sub : List.of("", "tests")) {
            try (Stream<Path> s = Files.list(example().resolve(sub))) {
                for (Path p : s.filter(Files::isRegularFile).toList()) {
                    Files.copy(p, dst.resolve(sub).resolve(p.getFileName().toString()));
                }
            }
        }
        return dst;
    }

    private static void replaceLine(Path file, int line, String from, String to) throws IOException {
        List<String> lines = new java.util.ArrayList<>(Files.readAllLines(file));
        assertTrue(lines.get(line - 1).contains(from), file + ":" + line + " is " + lines.get(line - 1));
        lines.set(line - 1, lines.get(line - 1).replace(from, to));
        Files.write(file, lines);
    }

    private Result sign(Path bundle, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("policy", "sign", bundle.toString(),
                "--key", keys.resolve("publisher-key.pem").toString(), "--cert-chain", publisher.chain().toString()));
        args.addAll(List.of(extra));
        return siteward(args.toArray(String[]::new));
    }

    private Result verify(Path bundle, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("policy", "verify", bundle.toString(),
                "--certificate-chain", publisher.root().toString()));
        args.addAll(List.of(extra));
        return siteward(args.toArray(String[]::new));
    }

    @Test
    void theExampleBundleChecksCleanAndItsTestsPass() {
        Result check = siteward("policy", "check", example().toString());
        assertEquals(0, check.exitCode(), check.both());
        Result test = siteward("policy", "test", example().toString());
        assertEquals(0, test.exitCode(), test.both());
        assertTrue(test.stdout().matches("(?s).*\\d+ cases: \\d+ passed, 0 failed\\s*"), test.stdout());
    }

    @Test
    void aFileThatBreaksTheSchemaExitsWith2NamingFileAndLine() throws IOException {
        Path b = copyOfExample("broken");
        replaceLine(b.resolve("valves.yaml"), 18, "effect: allow", "effect: permit");
        Result r = siteward("policy", "check", b.toString());
        assertEquals(2, r.exitCode(), r.both());
        assertTrue(r.stderr().contains("valves.yaml:18:"), r.stderr());
        assertTrue(r.stderr().contains("policy.schema"), r.stderr());
        assertFalse(r.stderr().contains("Exception"), r.stderr());
    }

    @Test
    void aLintOnlyProblemExitsWith1WithOneLinePerFinding() throws IOException {
        Path b = copyOfExample("lint");
        Files.writeString(b.resolve("zz-extra.yaml"), """
                schemaVersion: 1
                rules:
                  - id: toasters-open-valves
                    effect: allow
                    subjects:
                      deviceLabels: {class: toaster}
                    actions: [valve.open]
                """);
        Result r = siteward("policy", "check", b.toString());
        assertEquals(1, r.exitCode(), r.both());
        assertTrue(r.stdout().lines().anyMatch(l -> l.matches(".*zz-extra\\.yaml:\\d+: lint\\.unknown_label: .+")),
                r.stdout());
    }

    @Test
    void anEditedExpectationFailsPolicyTestNamingFileAndCase() throws IOException {
        Path b = copyOfExample("edited");
        replaceLine(b.resolve("tests/valves.yaml"), 8, "expect: allow", "expect: deny");
        Result r = siteward("policy", "test", b.toString());
        assertEquals(1, r.exitCode(), r.both());
        assertTrue(r.stdout().lines().anyMatch(l -> l.contains("tests/valves.yaml:")
                && l.contains("FAIL 'a valve controller with a fresh certificate opens a hall-a valve'")), r.stdout());
    }

    @Test
    void explainPrintsTheDecisionAndTheDecidingRule() {
        Result r = siteward("policy", "explain", "--bundle", example().toString(), "--subject", "device:vc-a-01",
                "--label", "class=valve-controller", "--certificate-age", "2d", "--action", "valve.open",
                "--resource", "valve-a-07", "--zone", "hall-a", "--at", "2026-03-02T08:00:00+01:00");
        assertEquals(0, r.exitCode(), r.both());
        List<String> lines = r.stdout().lines().toList();
        assertEquals("allow by valve-controllers-open-close", lines.get(0));
        assertTrue(lines.stream().anyMatch(l -> l.contains("matched allow valve-controllers-open-close")), r.stdout());
        assertTrue(lines.stream().anyMatch(l -> l.contains("skipped deny valve-controllers-locked-out-in-maintenance")
                && l.contains("site mode")), r.stdout());
    }

    @Test
    void diffShowsACombinationTheNewBundleNewlyAllows() throws IOException {
        Path newer = copyOfExample("newer");
        Files.writeString(newer.resolve("zz-auditors.yaml"), """
                schemaVersion: 1
                rules:
                  - id: auditors-read-valve-status
                    effect: allow
                    subjects:
                      roles: [auditor]
                    actions: [valve.status.read]
                """);
        Result r = siteward("policy", "diff", example().toString(), newer.toString(), "--days", "7",
                "--data-dir", work.resolve("data").toString());
        assertEquals(0, r.exitCode(), r.both());
        assertTrue(r.stdout().lines().anyMatch(l -> l.startsWith("newly allowed: ") && l.contains("auditor")
                && l.contains("valve.status.read") && l.contains("auditors-read-valve-status")), r.stdout());
        assertFalse(r.stdout().contains("newly denied: "), r.stdout());
        assertTrue(r.stderr().contains("static diff only"), r.stderr());
    }

    @Test
    void aSignedBundleVerifiesAndFailsWithExit1OnceAFileIsChanged() throws IOException {
        Path b = copyOfExample("signed");
        Result signed = sign(b, "--version", "7");
        assertEquals(0, signed.exitCode(), signed.both());
        assertTrue(Files.exists(b.resolve("bundle.sig")));
        assertTrue(Files.readString(b.resolve("siteward-bundle.yaml")).contains("version: 7"));

        Result ok = verify(b);
        assertEquals(0, ok.exitCode(), ok.both());
        assertTrue(ok.stdout().startsWith("verified policy bundle signed version 7 (expires "), ok.stdout());
        Result stillChecks = siteward("policy", "check", b.toString());
        assertEquals(0, stillChecks.exitCode(), "siteward-bundle.yaml is not read as a policy file: "
                + stillChecks.both());

        Files.writeString(b.resolve("valves.yaml"), Files.readString(b.resolve("valves.yaml"))
                .replace("max: 30", "max: 3000"));
        Result tampered = verify(b);
        assertEquals(1, tampered.exitCode(), tampered.both());
        assertTrue(tampered.stderr().startsWith("siteward: modelsig.digest_mismatch: "), tampered.stderr());
        assertTrue(tampered.stderr().lines().anyMatch(l -> l.startsWith("digest_differs valves.yaml")),
                tampered.stderr());
    }

    @Test
    void anExpiredBundleFailsVerificationWithExit1AndItsExpiryCannotBeEdited() throws IOException {
        Path b = copyOfExample("expiring");
        Result signed = sign(b, "--expires", "1d");
        assertEquals(0, signed.exitCode(), signed.both());
        String twoDaysOn = Instant.now().plus(Duration.ofDays(2)).toString();
        Result r = verify(b, "--at", twoDaysOn);
        assertEquals(1, r.exitCode(), r.both());
        assertTrue(r.stderr().startsWith("siteward: bundle.expired: "), r.stderr());

        Path metadata = b.resolve("siteward-bundle.yaml");
        Files.writeString(metadata, Files.readString(metadata).replaceAll("expires: \"[^\"]+\"",
                "expires: \"2099-01-01T00:00:00Z\""));
        Result extended = verify(b, "--at", twoDaysOn);
        assertEquals(1, extended.exitCode(), "the expiry is signed: " + extended.both());
        assertTrue(extended.stderr().lines().anyMatch(l -> l.startsWith("digest_differs siteward-bundle.yaml")),
                extended.stderr());
    }

    @Test
    void aBundleThatDoesNotLoadIsNotSigned() throws IOException {
        Path b = copyOfExample("unloadable");
        replaceLine(b.resolve("valves.yaml"), 5, "effect: allow", "effect: permit");
        Result r = sign(b);
        assertEquals(2, r.exitCode(), r.both());
        assertTrue(r.stderr().contains("valves.yaml:5:"), r.stderr());
        assertFalse(Files.exists(b.resolve("bundle.sig")));
        assertFalse(Files.exists(b.resolve("siteward-bundle.yaml")));
    }
}
