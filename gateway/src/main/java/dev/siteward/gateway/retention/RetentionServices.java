package dev.siteward.gateway.retention;

import dev.siteward.gateway.time.TimeGuard;
import java.util.Optional;

/** Glue between retention and the rest of the gateway that needs no framework. */
public final class RetentionServices {

    private RetentionServices() {
    }

    /**
     * Deleting is safe only while the clock is trusted (docs/operations.md, "Trusted time"): not behind the recorded
     * time, and no forward jump waiting for an operator's {@code siteward time accept}.
     */
    public static RetentionPurge.ClockTrust clockTrust(TimeGuard guard) {
        return () -> {
            if (!guard.trusted()) {
                return Optional.of("the clock is behind the latest recorded time; nothing is deleted until it is "
                        + "right or an operator runs 'siteward time accept'");
            }
            return guard.unconfirmedForwardJump().map(at -> "the clock jumped forward at " + at
                    + " without an operator's confirmation; nothing is deleted until 'siteward time accept'");
        };
    }
}
