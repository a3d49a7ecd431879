package dev.siteward.device;

import dev.siteward.device.DeviceException.Reason;
import java.time.Duration;

/**
 * Retries an operation while it fails with a transport failure ({@link DeviceException#retryable()}), waiting
 * {@link Backoff#delay} between attempts (or longer when the gateway sent Retry-After). A security failure is
 * thrown at once: the same request is never sent again.
 */
public final class RetryPolicy {

    /** Waits; replaced in tests so that nothing sleeps. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    /** One attempt of the operation. */
    @FunctionalInterface
    public interface Attempt<T> {
        T run() throws DeviceException;
    }

    private final Backoff backoff;
    private final int maxAttempts;
    private final Sleeper sleeper;

    public RetryPolicy(Backoff backoff, int maxAttempts, Sleeper sleeper) {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be >= 1");
        }
        this.backoff = backoff;
        this.maxAttempts = maxAttempts;
        this.sleeper = sleeper;
    }

    /** Never retries. */
    public static RetryPolicy once() {
        return new RetryPolicy(new Backoff(Duration.ofMillis(1), Duration.ofMillis(1), new java.util.Random()), 1,
                d -> { });
    }

    public <T> T run(Attempt<T> attempt) throws DeviceException {
        for (int n = 0; ; n++) {
            try {
                return attempt.run();
            } catch (DeviceException e) {
                if (!e.retryable() || n + 1 >= maxAttempts) {
                    throw e;
                }
                Duration wait = backoff.delay(n);
                if (e.retryAfter().isPresent() && e.retryAfter().get().compareTo(wait) > 0) {
                    wait = e.retryAfter().get();
                }
                try {
                    sleeper.sleep(wait);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new DeviceException(Reason.UNREACHABLE, "interrupted while waiting to retry", ie);
                }
            }
        }
    }
}
