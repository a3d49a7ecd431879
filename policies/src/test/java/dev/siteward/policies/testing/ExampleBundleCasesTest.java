package dev.siteward.policies.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.policies.PolicyLoader;
import dev.siteward.policies.PolicySet;
import dev.siteward.policies.SiteConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs every YAML case under {@code policies/examples/**}{@code /tests/} against its bundle; each case is one
 * JUnit test named by file, line and case name, so a failure names the case and the file.
 */
class ExampleBundleCasesTest {

    static final Path EXAMPLES = Path.of("examples");

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> out = new ArrayList<>();
        List<Path> testDirs;
        try (Stream<Path> s = Files.walk(EXAMPLES)) {
            testDirs = s.filter(p -> Files.isDirectory(p)
                    && p.getFileName().toString().equals(PolicyTestRunner.TESTS_FOLDER)).sorted().toList();
        }
        for (Path dir : testDirs) {
            Path bundle = dir.getParent();
            PolicySet set = PolicyLoader.load(bundle, SiteConfig.DEFAULTS);
            for (Path file : PolicyTestRunner.testFiles(bundle)) {
                for (CaseResult r : PolicyTestRunner.runFile(set, file)) {
                    out.add(Arguments.of(Named.of(r.location() + " " + r.name(), r)));
                }
            }
        }
        assertFalse(out.isEmpty(), "no example cases found under " + EXAMPLES.toAbsolutePath());
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void exampleCaseDecidesAsExpected(CaseResult result) {
        assertTrue(result.passed(), result::toString);
    }
}
