package dev.siteward.policies.testing;

import java.util.List;

/**
 * The results of all test cases of a bundle, in file and case order.
 *
 * @param results one result per case
 */
public record TestReport(List<CaseResult> results) {

    public TestReport {
        results = List.copyOf(results);
    }

    /** Returns the cases that failed. */
    public List<CaseResult> failures() {
        return results.stream().filter(r -> !r.passed()).toList();
    }

    /** Returns true when every case passed (and there was at least one). */
    public boolean passed() {
        return !results.isEmpty() && failures().isEmpty();
    }

    /** Returns the CLI exit code: 0 when all cases pass, 1 otherwise (including when there is no case). */
    public int exitCode() {
        return passed() ? 0 : 1;
    }
}
