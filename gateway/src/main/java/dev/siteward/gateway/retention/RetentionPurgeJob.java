package dev.siteward.gateway.retention;

import io.micronaut.scheduling.annotation.Scheduled;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs the retention purge every {@code siteward.retention.purge-interval} (default 10m), first one minute in. */
@Singleton
public class RetentionPurgeJob {

    private static final Logger LOG = LoggerFactory.getLogger(RetentionPurgeJob.class);

    private final RetentionPurge purge;

    public RetentionPurgeJob(RetentionPurge purge) {
        this.purge = purge;
    }

    @Scheduled(fixedDelay = "${siteward.retention.purge-interval:10m}",
            initialDelay = "${siteward.retention.purge-initial-delay:1m}")
    void run() {
        try {
            purge.run();
        } catch (Exception e) {
            LOG.error("retention purge failed (the next run continues it): {}", e.toString());
        }
    }
}
