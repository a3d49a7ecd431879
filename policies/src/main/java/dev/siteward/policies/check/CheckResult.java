package dev.siteward.policies.check;

import java.util.List;

/**
 * The outcome of checking a bundle.
 *
 * @param findings every finding, load errors first, then lint findings in rule order
 * @param invalid  true when a file could not be parsed or broke the schema (the bundle would not load)
 */
public record CheckResult(List<Finding> findings, boolean invalid) {

    /** CLI exit code for a bundle that does not load. */
    public static final int EXIT_INVALID = 2;
    /** CLI exit code for a bundle that loads but has lint findings. */
    public static final int EXIT_FINDINGS = 1;

    public CheckResult {
        findings = List.copyOf(findings);
    }

    /** Returns 2 when the bundle does not load, 1 when it loads with lint findings, 0 when clean. */
    public int exitCode() {
        if (invalid) {
            return EXIT_INVALID;
        }
        return findings.isEmpty() ? 0 : EXIT_FINDINGS;
    }
}
