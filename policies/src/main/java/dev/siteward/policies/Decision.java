package dev.siteward.policies;

import java.util.List;

/**
 * The answer to an {@link AccessRequest}: the effect, the rules that decided it and a reason in words.
 *
 * @param effect  allow or deny
 * @param ruleIds ids of the deciding rules: every matching deny rule for a deny, every matching allow rule for an
 *                allow, empty for a deny by default
 * @param reason  a sentence for logs and administrators
 */
public record Decision(Effect effect, List<String> ruleIds, String reason) {

    /** Copies the rule ids. */
    public Decision {
        ruleIds = List.copyOf(ruleIds);
    }

    /** Returns true when the effect is {@link Effect#ALLOW}. */
    public boolean allowed() {
        return effect == Effect.ALLOW;
    }
}
