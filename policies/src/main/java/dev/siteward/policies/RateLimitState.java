package dev.siteward.policies;

import java.time.Duration;
import java.time.Instant;

/**
 * Remembers recent uses for {@code rateLimit} conditions; the key names rule, subject and action.
 *
 * <p>Implementations must be thread-safe. {@link #NONE} records nothing and is used by dry runs (explain, test,
 * diff), so those never consume a subject's budget.
 */
public interface RateLimitState {

    /** A state that never records and always reports zero recent uses. */
    RateLimitState NONE = new RateLimitState() {
        @Override
        public int recentCount(String key, Instant now, Duration window) {
            return 0;
        }

        @Override
        public void record(String key, Instant now, Duration window) {
            // dry run: nothing is remembered
        }
    };

    /** Returns how many uses of {@code key} were recorded in the half-open interval (now - window, now]. */
    int recentCount(String key, Instant now, Duration window);

    /** Records one use of {@code key} at {@code now}; entries older than {@code window} may be forgotten. */
    void record(String key, Instant now, Duration window);
}
