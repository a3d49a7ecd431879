package dev.siteward.policies.diff;

import dev.siteward.policies.Resource;
import dev.siteward.policies.Subject;
import java.time.Instant;
import java.util.List;

/**
 * One subject/action/resource combination whose decision changes between two bundles, with one example context.
 *
 * @param change         newly allowed or newly denied
 * @param subject        the (representative) subject
 * @param action         the action (may be a wildcard text, standing for every action it matches)
 * @param resource       the (representative) resource
 * @param exampleMode    a site mode in which the change shows
 * @param exampleTime    an instant at which the change shows
 * @param changedIn      in how many of the sampled contexts (site mode x time) the change shows
 * @param contexts       how many contexts were sampled
 * @param newRuleIds     deciding rules of the new bundle in the example context
 */
public record DiffEntry(Change change, Subject subject, String action, Resource resource, String exampleMode,
                        Instant exampleTime, int changedIn, int contexts, List<String> newRuleIds) {

    /** The direction of a change. */
    public enum Change {
        NEWLY_ALLOWED,
        NEWLY_DENIED
    }

    public DiffEntry {
        newRuleIds = List.copyOf(newRuleIds);
    }

    /** Renders e.g. {@code NEWLY_ALLOWED admin '~role:operator' valve.open 'valve-*' (in 3/40 contexts, ...)}. */
    @Override
    public String toString() {
        return change + " " + subject.describe() + " " + action + " " + resource.describe() + " (in " + changedIn + "/"
                + contexts + " contexts, e.g. mode " + exampleMode + " at " + exampleTime + "; new rules "
                + newRuleIds + ")";
    }
}
