package dev.siteward.gateway.audit;

import io.micronaut.context.annotation.ConfigurationProperties;
import java.time.Duration;

/**
 * Audit log settings under {@code siteward.audit.*} (docs/audit.md): a signed checkpoint every
 * {@code checkpoint-every} records (default 1000) or {@code checkpoint-interval} (default 10m), whichever comes
 * first; {@code head-sink}, a file path or {@code https://} URL that receives every new signed head (default none).
 */
@ConfigurationProperties(AuditConfiguration.PREFIX)
public class AuditConfiguration {

    public static final String PREFIX = "siteward.audit";

    private int checkpointEvery = AuditSettings.DEFAULT_CHECKPOINT_EVERY;
    private Duration checkpointInterval = AuditSettings.DEFAULT_CHECKPOINT_INTERVAL;
    private String headSink;

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

    public AuditSettings settings() {
        return new AuditSettings(checkpointEvery, checkpointInterval, headSink);
    }
}
