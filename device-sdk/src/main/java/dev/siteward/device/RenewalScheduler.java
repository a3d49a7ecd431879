package dev.siteward.device;

import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * When to renew a certificate: at about two thirds of its lifetime, moved by a random jitter of up to
 * {@value #JITTER_PERCENT}% of the lifetime either way so that devices enrolled together do not renew together,
 * and never later than {@value #LATEST_PERCENT}% of the lifetime. Pure logic: the caller passes the time, and the
 * jitter is drawn once per certificate from the given {@link Random}.
 */
public final class RenewalScheduler {

    static final int JITTER_PERCENT = 5;
    static final int LATEST_PERCENT = 90;

    private final Random random;
    private final Map<BigInteger, Long> jitterBySerial = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<BigInteger, Long> eldest) {
            return size() > 16;
        }
    };

    public RenewalScheduler(Random random) {
        this.random = random;
    }

    /**
     * The instant to renew {@code certificate} at, seen at {@code now}: the planned time, or {@code now} when that
     * has passed (renew at once).
     */
    public synchronized Instant nextRenewal(X509Certificate certificate, Instant now) {
        Instant planned = plannedRenewal(certificate);
        return planned.isAfter(now) ? planned : now;
    }

    /** True when the certificate should be renewed at {@code now}. */
    public boolean due(X509Certificate certificate, Instant now) {
        return !plannedRenewal(certificate).isAfter(now);
    }

    /** The planned renewal time: notBefore + 2/3 of the lifetime + this certificate's jitter. */
    public synchronized Instant plannedRenewal(X509Certificate certificate) {
        Instant from = certificate.getNotBefore().toInstant();
        long lifetime = Duration.between(from, certificate.getNotAfter().toInstant()).toMillis();
        long jitter = jitterBySerial.computeIfAbsent(certificate.getSerialNumber(),
                s -> (long) ((random.nextDouble() * 2 - 1) * lifetime * JITTER_PERCENT / 100));
        long at = lifetime * 2 / 3 + jitter;
        at = Math.max(0, Math.min(at, lifetime * LATEST_PERCENT / 100));
        return from.plusMillis(at);
    }
}
