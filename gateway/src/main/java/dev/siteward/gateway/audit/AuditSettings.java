package dev.siteward.gateway.audit;

import java.time.Duration;

/**
 * How often the audit log signs a checkpoint (every {@code checkpointEvery} records or {@code checkpointInterval},
 * whichever comes first, at the next append) and where the signed head is also pushed ({@code headSink}: a file
 * path or an {@code https://} URL; null for none). {@code headDelay} zero (the default): every append returns only
 * once the head file covers it; above zero: appends return at their commit and a background writer seals the newest
 * record at most that long later (fewer fsyncs; a crash leaves at most that window unsealed, which the next start
 * records as an {@code audit_recovery}).
 */
public record AuditSettings(int checkpointEvery, Duration checkpointInterval, String headSink, Duration headDelay) {

    public static final int DEFAULT_CHECKPOINT_EVERY = 1000;
    public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofMinutes(10);

    public AuditSettings {
        if (checkpointEvery < 1) {
            throw new IllegalArgumentException("siteward.audit.checkpoint-every must be at least 1");
        }
        if (checkpointInterval == null || checkpointInterval.isNegative() || checkpointInterval.isZero()) {
            throw new IllegalArgumentException("siteward.audit.checkpoint-interval must be positive");
        }
        headSink = headSink == null || headSink.isBlank() ? null : headSink;
        headDelay = headDelay == null ? Duration.ZERO : headDelay;
        if (headDelay.isNegative() || headDelay.compareTo(Duration.ofSeconds(10)) > 0) {
            throw new IllegalArgumentException("siteward.audit.head-delay must be between 0 and 10s");
        }
    }

    public AuditSettings(int checkpointEvery, Duration checkpointInterval, String headSink) {
        this(checkpointEvery, checkpointInterval, headSink, Duration.ZERO);
    }

    public static AuditSettings defaults() {
        return new AuditSettings(DEFAULT_CHECKPOINT_EVERY, DEFAULT_CHECKPOINT_INTERVAL, null, Duration.ZERO);
    }
}
