package dev.siteward.gateway.audit;

import java.time.Duration;

/**
 * How often the audit log signs a checkpoint (every {@code checkpointEvery} records or {@code checkpointInterval},
 * whichever comes first, at the next append) and where the signed head is also pushed ({@code headSink}: a file
 * path or an {@code https://} URL; null for none).
 */
public record AuditSettings(int checkpointEvery, Duration checkpointInterval, String headSink) {

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
    }

    public static AuditSettings defaults() {
        return new AuditSettings(DEFAULT_CHECKPOINT_EVERY, DEFAULT_CHECKPOINT_INTERVAL, null);
    }
}
