package dev.siteward.device;

import com.fasterxml.jackson.databind.JsonNode;
import dev.siteward.device.DeviceException.Reason;
import dev.siteward.device.time.DeviceClock;
import dev.siteward.device.time.GatewayTimeSample;
import dev.siteward.device.trust.PinnedRootTrustManager;
import dev.siteward.device.trust.RootFingerprint;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.security.cert.X509Certificate;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Learns the gateway's time for a device without a real-time clock: {@code GET /.well-known/siteward} over TLS to
 * the pinned site root, with the chain and signatures checked but not the validity period (the device does not know
 * the time yet — that is the point), timed with the monotonic clock.
 */
public final class GatewayTimeClient {

    private final URI gateway;
    private final RootFingerprint pin;
    private final List<X509Certificate> knownRoots;
    private final LongSupplier nanos;

    /**
     * @param gateway    the enrollment URL (where {@code /.well-known/siteward} is served)
     * @param pin        the pinned root fingerprint
     * @param knownRoots the pinned root when the device holds it (after enrollment); empty to accept the root the
     *                   gateway presents in its chain when its fingerprint is the pin
     * @param nanos      the monotonic clock the {@link DeviceClock} uses
     */
    public GatewayTimeClient(URI gateway, RootFingerprint pin, Collection<X509Certificate> knownRoots,
                             LongSupplier nanos) {
        this.gateway = gateway;
        this.pin = pin;
        this.knownRoots = List.copyOf(knownRoots);
        this.nanos = nanos;
    }

    /** For an enrolled device: its enrollment URL and its pinned root. */
    public static GatewayTimeClient forRoot(URI gateway, X509Certificate root, LongSupplier nanos) {
        return new GatewayTimeClient(gateway, RootFingerprint.of(root), List.of(root), nanos);
    }

    /**
     * Before enrollment, when the device holds only the pin: takes the root from {@code /.well-known/est/cacerts}
     * (over a provisional connection; only a self-signed certificate whose fingerprint is the pin is kept), so the
     * time request can validate the gateway's chain to it.
     */
    public static GatewayTimeClient forPin(URI gateway, RootFingerprint pin, LongSupplier nanos)
            throws DeviceException {
        HttpClient provisional = GatewayHttp.client(null, new dev.siteward.device.trust.ProvisionalTrustManager());
        List<X509Certificate> caCerts = GatewayHttp.certsOnly(GatewayHttp.send(provisional,
                GatewayHttp.request(gateway, "/.well-known/est/cacerts").GET().build()));
        try {
            X509Certificate root = dev.siteward.device.trust.PinnedRoot.select(pin, caCerts).certificate();
            return new GatewayTimeClient(gateway, pin, List.of(root), nanos);
        } catch (dev.siteward.device.trust.UntrustedChainException e) {
            throw new DeviceException(Reason.UNTRUSTED_GATEWAY, "refusing " + GatewayHttp.hostPort(gateway) + ": "
                    + e.getMessage(), e);
        }
    }

    /** Asks the gateway for its time once. */
    public GatewayTimeSample sample() throws DeviceException {
        HttpClient client = GatewayHttp.client(null, PinnedRootTrustManager.ignoringValidityPeriod(pin, knownRoots));
        long sent = nanos.getAsLong();
        HttpResponse<byte[]> response = GatewayHttp.send(client,
                GatewayHttp.request(gateway, "/.well-known/siteward").GET().build());
        long received = nanos.getAsLong();
        JsonNode n = GatewayHttp.json(response);
        try {
            if (!n.path("time").isTextual()) {
                throw new DeviceException(Reason.PROTOCOL, "/.well-known/siteward carries no time");
            }
            Instant time = Instant.parse(n.path("time").asText());
            Instant last = n.path("lastRecordedTime").isTextual()
                    ? Instant.parse(n.path("lastRecordedTime").asText()) : null;
            // an older gateway without the field does not say its clock is trusted: fail closed
            boolean trusted = n.path("clockTrusted").asBoolean(false);
            return new GatewayTimeSample(time, last, trusted, Duration.ofNanos(Math.max(0, received - sent)),
                    received);
        } catch (DateTimeException e) {
            throw new DeviceException(Reason.PROTOCOL, "/.well-known/siteward: unreadable time: " + e.getMessage(), e);
        }
    }

    /**
     * Makes {@code clock} ready: when it needs the gateway's time, samples it and lets the clock learn it; a clock
     * on a trusted local real-time clock is left alone (no request).
     */
    public void synchronize(DeviceClock clock) throws DeviceException {
        if (clock.needsGatewayTime()) {
            clock.learn(sample());
        }
    }
}
