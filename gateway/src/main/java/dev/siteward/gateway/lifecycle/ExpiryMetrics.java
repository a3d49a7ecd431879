package dev.siteward.gateway.lifecycle;

import dev.siteward.gateway.cli.DurationText;
import dev.siteward.gateway.metrics.MetricFamilies;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The expiry watch as metrics on the management listener's {@code /prometheus}:
 * <ul>
 *   <li>{@code siteward_certificate_expiry_seconds{kind,name,serial}} — seconds until each certificate of the site
 *       CA (root, trusted issuing generations), the server, the gateway's services, every active admin and every
 *       trusted publisher's root ({@code trust/publishers.yaml}) expires (negative once expired);</li>
 *   <li>{@code siteward_devices_expiring{window="7d"}}, {@code siteward_devices_renewal_failed},
 *       {@code siteward_devices_expired} — how many active devices need attention, as {@code siteward status}
 *       counts them;</li>
 *   <li>{@code siteward_certificates_attention} — every entry of the report that needs attention;</li>
 *   <li>{@code siteward_expiry_watch_timestamp_seconds} and {@code siteward_expiry_watch_failures_total} — when the
 *       report was last computed, and how often computing it failed.</li>
 * </ul>
 * The report reads every device from the database, so it is computed at most once per {@code refresh} (default
 * one minute) and the text of the last report is served in between; the seconds-to-expiry are taken from the
 * injected clock at each scrape. A failed computation keeps the previous report and counts the failure.
 */
public final class ExpiryMetrics implements MetricFamilies {

    /** How long a computed report is served before the next scrape computes a new one, unless told otherwise. */
    public static final Duration DEFAULT_REFRESH = Duration.ofMinutes(1);

    private static final Logger LOG = LoggerFactory.getLogger(ExpiryMetrics.class);
    /** The kinds exported per certificate: devices are counted, not listed (a site has thousands). */
    private static final Set<String> CERTIFICATE_KINDS = Set.of("root", "issuing", "server", "service", "admin",
            "publisher");

    private record Snapshot(Instant computedAt, List<ExpiryWatch.Entry> certificates, int expiring, int overdue,
                            int expired, int attention) {
    }

    private final ExpiryWatch watch;
    private final Clock clock;
    private final Duration refresh;
    private final Duration window;
    private volatile Snapshot snapshot;
    private long failures;
    private int computations;

    /**
     * @param watch      the expiry watch
     * @param clock      decides when the cached report is stale and how long certificates have left
     * @param refresh    the least time between two computations
     */
    public ExpiryMetrics(ExpiryWatch watch, Clock clock, Duration refresh) {
        if (refresh == null || refresh.isNegative()) {
            throw new IllegalArgumentException("the expiry metrics refresh must be a positive duration");
        }
        this.watch = watch;
        this.clock = clock;
        this.refresh = refresh;
        this.window = ExpiryWatch.DEFAULT_WINDOW;
    }

    @Override
    public int order() {
        return 20;
    }

    /** How many times the report was computed (each is a database scan). */
    public synchronized int computations() {
        return computations;
    }

    private synchronized Snapshot current() {
        Instant now = clock.instant();
        Snapshot s = snapshot;
        if (s != null && now.isBefore(s.computedAt().plus(refresh)) && !now.isBefore(s.computedAt())) {
            return s;
        }
        try {
            ExpiryWatch.Report r = watch.report(window);
            computations++;
            List<ExpiryWatch.Entry> certs = new ArrayList<>();
            int expiring = 0;
            int overdue = 0;
            int expired = 0;
            for (ExpiryWatch.Entry e : r.entries()) {
                if (CERTIFICATE_KINDS.contains(e.kind()) && e.notAfter() != null
                        && !ExpiryWatch.State.RETIRED.text().equals(e.state())) {
                    certs.add(e);
                } else if ("device".equals(e.kind())) {
                    if (ExpiryWatch.State.EXPIRING.text().equals(e.state())) {
                        expiring++;
                    } else if (ExpiryWatch.State.RENEWAL_OVERDUE.text().equals(e.state())) {
                        overdue++;
                    } else if (ExpiryWatch.State.EXPIRED.text().equals(e.state())) {
                        expired++;
                    }
                }
            }
            int attention = r.attention();
            s = new Snapshot(now, List.copyOf(certs), expiring, overdue, expired, attention);
            snapshot = s;
            return s;
        } catch (Exception | LinkageError e) {
            failures++;
            LOG.warn("expiry watch for metrics failed; serving the previous report", e);
            return snapshot;
        }
    }

    @Override
    public String prometheus() {
        Snapshot s = current();
        long failed;
        synchronized (this) {
            failed = failures;
        }
        Instant now = clock.instant();
        StringBuilder b = new StringBuilder();
        String w = DurationText.format(window);
        b.append("# HELP siteward_expiry_watch_failures_total Times computing the expiry watch for metrics failed.\n");
        b.append("# TYPE siteward_expiry_watch_failures_total counter\n");
        b.append("siteward_expiry_watch_failures_total ").append(failed).append('\n');
        if (s == null) {
            return b.toString();
        }
        b.append("# HELP siteward_certificate_expiry_seconds Seconds until the certificate expires (negative: "
                + "expired), by kind: root, issuing, server, service, admin, publisher.\n");
        b.append("# TYPE siteward_certificate_expiry_seconds gauge\n");
        for (ExpiryWatch.Entry e : s.certificates()) {
            b.append("siteward_certificate_expiry_seconds{kind=\"").append(MetricFamilies.escape(e.kind()))
                    .append("\",name=\"").append(MetricFamilies.escape(e.name())).append("\",serial=\"")
                    .append(MetricFamilies.escape(e.serial() == null ? "" : e.serial())).append("\"} ")
                    .append(Duration.between(now, e.notAfter()).getSeconds()).append('\n');
        }
        gauge(b, "siteward_devices_expiring", "Active devices whose certificate expires within the window.",
                "{window=\"" + w + "\"}", s.expiring());
        gauge(b, "siteward_devices_renewal_failed", "Active devices past 80% of their certificate's lifetime "
                + "without a renewal (renewal failed or the device is offline).", "", s.overdue());
        gauge(b, "siteward_devices_expired", "Active devices with no valid certificate left (must enroll again).",
                "", s.expired());
        gauge(b, "siteward_certificates_attention", "Entries of 'siteward status' that need attention (window "
                + w + "; CA certificates 90 days).", "", s.attention());
        b.append("# HELP siteward_expiry_watch_timestamp_seconds When these expiry metrics were computed.\n");
        b.append("# TYPE siteward_expiry_watch_timestamp_seconds gauge\n");
        b.append("siteward_expiry_watch_timestamp_seconds ").append(String.format(Locale.ROOT, "%.3f",
                s.computedAt().toEpochMilli() / 1000.0)).append('\n');
        return b.toString();
    }

    private static void gauge(StringBuilder b, String name, String help, String labels, long value) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(" gauge\n");
        b.append(name).append(labels).append(' ').append(value).append('\n');
    }
}
