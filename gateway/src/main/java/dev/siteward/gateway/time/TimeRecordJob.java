package dev.siteward.gateway.time;

import io.micronaut.scheduling.annotation.Scheduled;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Records the gateway's time every {@code siteward.time-record-interval} (default 1m) and watches for jumps. */
@Singleton
public class TimeRecordJob {

    private static final Logger LOG = LoggerFactory.getLogger(TimeRecordJob.class);

    private final TimeGuard guard;

    public TimeRecordJob(TimeGuard guard) {
        this.guard = guard;
    }

    @Scheduled(fixedDelay = "${siteward.time-record-interval:1m}", initialDelay = "${siteward.time-record-interval:1m}")
    void record() {
        try {
            guard.tick();
        } catch (java.io.IOException e) {
            LOG.warn("cannot record the time: {}", e.toString());
        }
    }
}
