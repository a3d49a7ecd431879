package dev.siteward.policies;

import java.util.List;

/**
 * A decision together with every rule of the set and why it did or did not apply.
 *
 * @param decision the decision (identical to {@link PolicySet#evaluate})
 * @param rules    one trace per rule, in bundle order
 */
public record Explanation(Decision decision, List<RuleTrace> rules) {

    /**
     * Why one rule did or did not apply.
     *
     * @param ruleId   the rule
     * @param effect   its effect
     * @param location where it is written
     * @param matched  true when the rule applies to the request
     * @param why      {@code matches}, or the first check that failed, in words
     */
    public record RuleTrace(String ruleId, Effect effect, SourceLocation location, boolean matched, String why) {
    }

    /** Copies the traces. */
    public Explanation {
        rules = List.copyOf(rules);
    }
}
