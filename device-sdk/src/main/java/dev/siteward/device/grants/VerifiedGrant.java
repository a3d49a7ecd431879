package dev.siteward.device.grants;

import java.time.Instant;

/**
 * A grant that verified and was marked used.
 *
 * @param id         its {@code jti}
 * @param subject    who was allowed (a SPIFFE id)
 * @param action     the action
 * @param audience   this actuator's id
 * @param decisionId the gateway's decision id, for the audit trail
 * @param expires    its expiry
 */
public record VerifiedGrant(String id, String subject, String action, String audience, String decisionId,
                            Instant expires) {
}
