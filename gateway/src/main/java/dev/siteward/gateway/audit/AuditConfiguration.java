package dev.siteward.gateway.audit;

import io.micronaut.context.annotation.ConfigurationProperties;
import java.time.Duration;

/**
 * Audit log settings under {@code siteward.audit.*} (docs/audit.md): a signed checkpoint every
 * {@code checkpoint-every} records (default 1000) or {@code checkpoint-interval} (default 10m), whichever comes
 * first; {@code head-sink}, a file path or {@code https://} URL that receives every new signed head (default none);
 * {@code head-delay} (default 0) lets appends return before their head write.
 */
@ConfigurationProperties(AuditConfiguration.PREFIX)
public class AuditConfiguration {

    public static final String PREFIX = "siteward.audit";

    private int checkpointEvery = AuditSettings.DEFAULT_CHECKPOINT_EVERY;
    private Duration checkpointInterval = AuditSettings.DEFAULT_CHECKPOINT_INTERVAL;
    private String headSink;
    private Duration headDelay = Duration.ZERO;

    public int getCheckpointEvery() {
        return checkpointEvery;
    }

    public void setCheckpointEvery(int checkpointEvery) {
        this.checkpointEvery = checkpointEvery;
    }

    public Duration getCheckpointInterval() {
        return checkpointInterval;
    }

    public void setCheckpointInterval(Duration checkpointInterval) {
        this.checkpointInterval = checkpointInterval;
    }

    public String getHeadSink() {
        return headSink;
    }

    public void setHeadSink(String headSink) {
        this.headSink = headSink;
    }

    /** 0 (default): each append waits for its head write; e.g. 50ms: appends return at commit, heads follow. */
    public Duration getHeadDelay() {
        return headDelay;
    }

    public void setHeadDelay(Duration headDelay) {
        this.headDelay = headDelay;
    }

    public AuditSettings settings() {
        return new AuditSettings(checkpointEvery, checkpointInterval, headSink, headDelay);
    }
}
