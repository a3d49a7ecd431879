package dev.siteward.policies.testing;

import dev.siteward.policies.Decision;
import dev.siteward.policies.Effect;
import dev.siteward.policies.SourceLocation;
import java.util.List;

/**
 * The result of one test case: where it is written, what was expected and what the policy set decided.
 *
 * @param location      the case in its file (file:line:column)
 * @param name          the case name
 * @param expected      the expected effect
 * @param expectedRules the expected deciding rule ids, or {@code null} when the case does not name them
 * @param actual        the decision made
 */
public record CaseResult(SourceLocation location, String name, Effect expected, List<String> expectedRules,
                         Decision actual) {

    /** Returns true when the effect, and the rule ids if the case names them, are as expected. */
    public boolean passed() {
        return actual.effect() == expected
                && (expectedRules == null || java.util.Set.copyOf(expectedRules).equals(
                java.util.Set.copyOf(actual.ruleIds())));
    }

    /** Renders e.g. {@code tests/valves.yaml:12:5: FAIL 'operator opens valve': expected allow, got deny (...)}. */
    @Override
    public String toString() {
        String head = location + ": " + (passed() ? "PASS" : "FAIL") + " '" + name + "'";
        if (passed()) {
            return head;
        }
        return head + ": expected " + expected.yamlName() + (expectedRules == null ? "" : " by " + expectedRules)
                + ", got " + actual.effect().yamlName() + " by " + actual.ruleIds() + " (" + actual.reason() + ")";
    }
}
