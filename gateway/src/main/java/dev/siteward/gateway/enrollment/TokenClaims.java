package dev.siteward.gateway.enrollment;

import java.time.Instant;
import java.util.Map;

/** What a verified enrollment token says: which device may enroll, with which labels, until when. */
public record TokenClaims(String jti, String deviceId, Map<String, String> labels, Instant expiresAt) {
}
