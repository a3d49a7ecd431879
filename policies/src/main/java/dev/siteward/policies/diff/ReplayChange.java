package dev.siteward.policies.diff;

import dev.siteward.policies.Decision;

/**
 * A recorded decision that the new bundle would decide differently.
 *
 * @param recorded the past decision
 * @param now      what the new bundle decides for the same request at the same time
 */
public record ReplayChange(RecordedDecision recorded, Decision now) {
}
