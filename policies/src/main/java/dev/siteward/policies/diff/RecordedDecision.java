package dev.siteward.policies.diff;

import dev.siteward.policies.AccessRequest;
import dev.siteward.policies.Effect;
import java.time.Instant;

/**
 * A decision the gateway made in the past, as recorded in its decision log.
 *
 * @param decisionId the recorded decision id
 * @param request    the request
 * @param at         when it was decided
 * @param effect     what was decided
 */
public record RecordedDecision(String decisionId, AccessRequest request, Instant at, Effect effect) {
}
