package dev.siteward.device;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Keeps a device credential renewed in the background: sleeps until {@link RenewalScheduler#nextRenewal}, renews,
 * and plans the next renewal from the new certificate. When a renewal fails for transport reasons (after the
 * {@link RetryPolicy} gave up) it tries again after {@link #RETRY_LATER}; a security failure is reported to the
 * listener and renewal stops until {@link #start()} is called again — the same refused request is never repeated.
 */
public final class BackgroundRenewal implements AutoCloseable {

    /** The pause after a renewal whose retries all failed for transport reasons. */
    public static final Duration RETRY_LATER = Duration.ofMinutes(5);

    private final RenewalClient renewal;
    private final Supplier<DeviceIdentity> current;
    private final RenewalScheduler scheduler;
    private final Clock clock;
    private final ScheduledExecutorService executor;
    private final Consumer<DeviceException> onFailure;
    private ScheduledFuture<?> next;

    public BackgroundRenewal(RenewalClient renewal, Supplier<DeviceIdentity> current, RenewalScheduler scheduler,
            Clock clock, ScheduledExecutorService executor, Consumer<DeviceException> onFailure) {
        this.renewal = renewal;
        this.current = current;
        this.scheduler = scheduler;
        this.clock = clock;
        this.executor = executor;
        this.onFailure = onFailure;
    }

    /** Plans the next renewal of the current certificate. */
    public synchronized void start() {
        Instant now = clock.instant();
        schedule(Duration.between(now, scheduler.nextRenewal(current.get().certificate(), now)));
    }

    private synchronized void schedule(Duration delay) {
        if (next != null) {
            next.cancel(false);
        }
        next = executor.schedule(this::runOnce, Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS);
    }

    private void runOnce() {
        try {
            renewal.renew();
            start();
        } catch (DeviceException e) {
            onFailure.accept(e);
            if (e.retryable()) {
                schedule(RETRY_LATER);
            }
        }
    }

    @Override
    public synchronized void close() {
        if (next != null) {
            next.cancel(false);
        }
    }
}
