package dev.siteward.gateway.lifecycle;

import dev.siteward.gateway.admins.Admin;
import dev.siteward.gateway.admins.AdminDirectory;
import dev.siteward.gateway.cli.DurationText;
import dev.siteward.gateway.devices.Device;
import dev.siteward.gateway.devices.DeviceCertificate;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.devices.DeviceStatus;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.ca.RegistryEntry;
import dev.siteward.pki.ca.SiteCa;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The expiry watch behind {@code siteward status}: the site CA's root and every issuing generation (trusted, or
 * retired once the last certificate it issued expired), the gateway's server certificate, every active admin's
 * certificate, and the devices that need attention — a
 * certificate expiring within the window, one past the point where its renewal should have happened, or none
 * left at all. Pure reading; the clock decides what "soon" is.
 */
public final class ExpiryWatch {

    /**
     * How far ahead "expiring" looks unless told otherwise: shorter than the time a device certificate (30 days,
     * renewed at two thirds) has left after a healthy renewal, so renewing devices are not reported.
     */
    public static final Duration DEFAULT_WINDOW = Duration.ofDays(7);
    /** CA certificates are reported this far ahead at least: rotating a CA needs lead time. */
    public static final Duration CA_MIN_WINDOW = Duration.ofDays(90);
    /**
     * The share of a device certificate's lifetime after which a missing renewal counts as failed: the SDK renews
     * at two thirds plus at most 5% jitter, so by 80% a healthy device has renewed.
     */
    public static final double RENEWAL_OVERDUE_FRACTION = 0.80;

    /** What a certificate needs. */
    public enum State {
        OK("ok"), EXPIRING("expiring"), RENEWAL_OVERDUE("renewal-overdue"), EXPIRED("expired"),
        /** An earlier issuing CA generation whose last issued certificate expired: no longer trusted, by design. */
        RETIRED("retired");

        private final String text;

        State(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }
    }

    /**
     * One certificate in the report.
     *
     * @param kind   root, issuing, server, service, admin, device, publisher (a trusted publisher's root, or with
     *               {@code --publisher-data-dir} a publisher certificate), publisher-root or publisher-issuing
     * @param name   the subject (CA), host name (server), admin name or device id
     * @param serial the serial (hex), or null when there is no certificate left
     * @param state  ok, expiring, renewal-overdue, expired or (issuing CA generations) retired
     * @param detail what it means, for people
     */
    public record Entry(String kind, String name, String serial, Instant notBefore, Instant notAfter, String state,
                        String detail) {
        public boolean needsAttention() {
            return !State.OK.text().equals(state) && !State.RETIRED.text().equals(state);
        }
    }

    /** The report: when, the window used, the entries, and how many need attention. */
    public record Report(Instant time, String window, List<Entry> entries, int attention) {
    }

    private final SiteCa ca;
    private final AdminDirectory admins;
    private final DeviceRegistry devices;
    private final Supplier<X509Certificate> serverCertificate;
    private final Clock clock;
    private final java.nio.file.Path dataDir;

    /**
     * The gateway's own service certificates, by file under the data dir and the name they are reported with: the
     * release key (model metadata), the grant key (policy decisions), the audit key and the MQTT service client. The
     * gateway renews each at two thirds of its lifetime.
     */
    public static final List<String[]> SERVICE_FILES = List.of(
            new String[] {"gateway/release.pem", "release"},
            new String[] {"gateway/grant.pem", "grant"},
            new String[] {"gateway/audit.pem", "gateway-audit"},
            new String[] {"mqtt/service.pem", "mqtt-service"});

    public ExpiryWatch(SiteCa ca, AdminDirectory admins, DeviceRegistry devices,
                       Supplier<X509Certificate> serverCertificate, Clock clock) {
        this(ca, admins, devices, serverCertificate, clock, null);
    }

    /** With {@code dataDir}, the gateway's service certificates kept there are reported too (kind "service"). */
    public ExpiryWatch(SiteCa ca, AdminDirectory admins, DeviceRegistry devices,
                       Supplier<X509Certificate> serverCertificate, Clock clock, java.nio.file.Path dataDir) {
        this.dataDir = dataDir;
        this.ca = ca;
        this.admins = admins;
        this.devices = devices;
        this.serverCertificate = serverCertificate;
        this.clock = clock;
    }

    public Report report(Duration window) throws StoreException {
        if (window == null || window.isNegative()) {
            throw new IllegalArgumentException("the window must be a positive duration");
        }
        Instant now = clock.instant();
        List<Entry> out = new ArrayList<>(caEntries(ca, "", now, window));
        X509Certificate server = serverCertificate.get();
        if (server != null) {
            out.add(entry("server", hostOf(server), server, now, window));
        }
        out.addAll(serviceEntries(now, window));
        out.addAll(trustedPublisherEntries(now, window));
        for (Admin a : admins.list()) {
            if (a.active()) {
                State s = state(a.notAfter(), now, window);
                out.add(new Entry("admin", a.name(), a.serial(), null, a.notAfter(), s.text(),
                        describe(s, a.notAfter(), now) + " (role " + a.role() + ")"));
            }
        }
        for (Device d : devices.list()) {
            Entry e = device(d, now, window);
            if (e != null) {
                out.add(e);
            }
        }
        int attention = (int) out.stream().filter(Entry::needsAttention).count();
        return new Report(now, DurationText.format(window), out, attention);
    }

    /** The root and every issuing generation of a CA ({@code prefix} "publisher-" for a publisher CA). */
    public static List<Entry> caEntries(SiteCa ca, String prefix, Instant now, Duration requested) {
        Duration window = requested.compareTo(CA_MIN_WINDOW) > 0 ? requested : CA_MIN_WINDOW;
        List<Entry> out = new ArrayList<>();
        out.add(entry(prefix + "root", ca.root().getSubjectX500Principal().getName(), ca.root(), now, window));
        for (SiteCa.IssuingGeneration g : ca.generations()) {
            X509Certificate issuing = g.certificate();
            Entry e = entry(prefix + "issuing", issuing.getSubjectX500Principal().getName(), issuing, now, window);
            String detail;
            String state = e.state();
            if (g.current()) {
                detail = e.detail() + "; current (issues new certificates)";
            } else if (g.retired()) {
                state = State.RETIRED.text();
                detail = g.lastIssued() == null ? "retired: replaced before it issued any certificate; no longer "
                        + "trusted" : "retired " + g.trustedUntil() + " when the last certificate it issued expired; "
                        + "no longer trusted";
            } else {
                State s = state(g.trustedUntil(), now, window);
                state = s == State.EXPIRED ? State.RETIRED.text() : State.OK.text();
                detail = "replaced; trusted until " + g.trustedUntil() + " (the last certificate it issued expires "
                        + "then), then retired";
            }
            out.add(new Entry(e.kind(), e.name(), e.serial(), e.notBefore(), e.notAfter(), state, detail));
        }
        return out;
    }

    /** The unrevoked publisher certificates of a publisher CA, each with its state. */
    public static List<Entry> publisherEntries(SiteCa publisherCa, Instant now, Duration window) {
        List<Entry> out = new ArrayList<>();
        for (RegistryEntry r : publisherCa.registry().findByProfile(CertificateProfile.PUBLISHER)) {
            if (!r.revoked()) {
                State s = state(r.notAfter(), now, window);
                out.add(new Entry("publisher", r.name(), Certificates.serialHex(r.serial()), r.notBefore(),
                        r.notAfter(), s.text(), describe(s, r.notAfter(), now)));
            }
        }
        return out;
    }

    static Entry device(Device d, Instant now, Duration window) {
        if (d.status() != DeviceStatus.ACTIVE) {
            return null;
        }
        DeviceCertificate c = d.currentCertificate(now);
        if (c == null) {
            DeviceCertificate last = d.certificates().isEmpty() ? null : d.certificates().get(0);
            if (last == null || last.revokedAt() != null) {
                return null;
            }
            return new Entry("device", d.id(), last.serial(), last.notBefore(), last.notAfter(),
                    State.EXPIRED.text(), "expired " + last.notAfter() + " without a renewal: the device must "
                    + "enroll again");
        }
        State s = state(c.notAfter(), now, window);
        Duration life = Duration.between(c.notBefore(), c.notAfter());
        Instant overdue = c.notBefore().plusMillis((long) (life.toMillis() * RENEWAL_OVERDUE_FRACTION));
        if (now.isAfter(overdue)) {
            return new Entry("device", d.id(), c.serial(), c.notBefore(), c.notAfter(), State.RENEWAL_OVERDUE.text(),
                    "not renewed by " + Math.round(RENEWAL_OVERDUE_FRACTION * 100) + "% of its lifetime (renewal "
                    + "failed or the device is offline; last seen " + (d.lastSeenAt() == null ? "never"
                    : d.lastSeenAt().toString()) + "); " + describe(s, c.notAfter(), now));
        }
        if (s == State.OK) {
            return null;
        }
        return new Entry("device", d.id(), c.serial(), c.notBefore(), c.notAfter(), s.text(),
                describe(s, c.notAfter(), now));
    }

    static State state(Instant notAfter, Instant now, Duration window) {
        if (!now.isBefore(notAfter)) {
            return State.EXPIRED;
        }
        return notAfter.isAfter(now.plus(window)) ? State.OK : State.EXPIRING;
    }

    /**
     * The service certificates present in the data dir. Past {@value #RENEWAL_OVERDUE_FRACTION} of its lifetime a
     * service certificate is {@code renewal-overdue}: a running gateway would have renewed it at two thirds (the
     * grant and release certificates are renewed when next used, so on a gateway that has not signed since, start or
     * use it).
     */
    private List<Entry> serviceEntries(Instant now, Duration window) {
        List<Entry> out = new ArrayList<>();
        if (dataDir == null) {
            return out;
        }
        for (String[] f : SERVICE_FILES) {
            java.nio.file.Path file = dataDir.resolve(f[0]);
            if (!java.nio.file.Files.isRegularFile(file)) {
                continue;
            }
            X509Certificate c;
            try {
                c = dev.siteward.pki.PemCodec.parseCertificates(java.nio.file.Files.readString(file)).get(0);
            } catch (Exception e) {
                out.add(new Entry("service", f[1], null, null, null, State.EXPIRED.text(), "unreadable " + f[0]));
                continue;
            }
            Entry e = entry("service", f[1], c, now, window);
            Instant start = c.getNotBefore().toInstant();
            Instant overdue = start.plus(Duration.ofMillis((long) (Duration.between(start,
                    c.getNotAfter().toInstant()).toMillis() * RENEWAL_OVERDUE_FRACTION)));
            if (!e.state().equals(State.EXPIRED.text()) && now.isAfter(overdue)) {
                e = new Entry(e.kind(), e.name(), e.serial(), e.notBefore(), e.notAfter(),
                        State.RENEWAL_OVERDUE.text(), e.detail() + "; not renewed at two thirds of its lifetime");
            }
            out.add(e);
        }
        return out;
    }

    /**
     * The root certificates of the publishers the site trusts ({@code trust/publishers.yaml} in the data dir), kind
     * {@code publisher}, named by the publisher: like CA certificates they are reported 90 days ahead at least, since
     * a publisher's new root must be added before the old one expires or its signatures stop verifying. An unreadable
     * trust file is reported (every signed model and bundle would be refused).
     */
    private List<Entry> trustedPublisherEntries(Instant now, Duration requested) {
        List<Entry> out = new ArrayList<>();
        if (dataDir == null) {
            return out;
        }
        Duration window = requested.compareTo(CA_MIN_WINDOW) > 0 ? requested : CA_MIN_WINDOW;
        try {
            for (dev.siteward.gateway.trust.PublisherTrust.Publisher p
                    : dev.siteward.gateway.trust.PublisherTrust.load(dataDir).publishers()) {
                for (X509Certificate root : p.roots()) {
                    Entry e = entry("publisher", p.name(), root, now, window);
                    out.add(new Entry(e.kind(), e.name(), e.serial(), e.notBefore(), e.notAfter(), e.state(),
                            e.detail() + "; trusted root " + root.getSubjectX500Principal().getName()));
                }
            }
        } catch (dev.siteward.gateway.trust.PublisherTrustException e) {
            out.add(new Entry("publisher", "trust/publishers.yaml", null, null, null, State.EXPIRED.text(),
                    "unreadable: " + e.getMessage()));
        }
        return out;
    }

    private static Entry entry(String kind, String name, X509Certificate c, Instant now, Duration window) {
        Instant notAfter = c.getNotAfter().toInstant();
        State s = state(notAfter, now, window);
        return new Entry(kind, name, Certificates.serialHex(c.getSerialNumber()), c.getNotBefore().toInstant(),
                notAfter, s.text(), describe(s, notAfter, now));
    }

    private static String describe(State s, Instant notAfter, Instant now) {
        if (s == State.EXPIRED) {
            return "expired " + notAfter;
        }
        Duration left = Duration.between(now, notAfter);
        return "expires in " + (left.toDays() > 0 ? left.toDays() + "d" : left.toHours() + "h");
    }

    private static String hostOf(X509Certificate c) {
        try {
            if (c.getSubjectAlternativeNames() != null) {
                for (List<?> san : c.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(san.get(0))) {
                        return (String) san.get(1);
                    }
                }
            }
        } catch (java.security.cert.CertificateParsingException ignored) {
            // fall back to the subject
        }
        return c.getSubjectX500Principal().getName();
    }
}
