package dev.siteward.device;

import dev.siteward.device.DeviceException.Reason;
import dev.siteward.device.trust.GatewayCrls;
import dev.siteward.device.trust.PinnedRootTrustManager;
import dev.siteward.pki.est.EstCodec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Objects;

/**
 * The mTLS HTTP client the SDK talks to the gateway with: TLS 1.2/1.3, the device credential as client
 * certificate, the pinned site root as the only trust anchor (with host name checking), connect and request
 * timeouts. Thread-safe; {@link #use} switches to a renewed credential for all later connections.
 */
public final class DeviceHttpClient {

    private final Clock clock;
    private volatile DeviceIdentity identity;
    private volatile HttpClient http;
    private volatile GatewayCrls crls;
    private volatile List<X509Certificate> crlRoots;

    public DeviceHttpClient(DeviceIdentity identity, Clock clock) {
        this.clock = clock;
        use(identity);
    }

    /** Uses a (renewed) credential from now on; open connections of the old one are left to close. */
    public void use(DeviceIdentity newIdentity) {
        Objects.requireNonNull(newIdentity);
        List<X509Certificate> roots = newIdentity.roots(clock.instant());
        if (crls == null || !roots.equals(crlRoots)) {
            // a root rollover changes the roots: the CRLs are fetched over a channel pinned to the new set
            crls = GatewayHttp.crls(newIdentity.state().enrollUrl(), roots, clock);
            crlRoots = roots;
        }
        this.http = GatewayHttp.client(newIdentity.keyManagers(),
                PinnedRootTrustManager.forRoots(roots, clock).withRevocation(crls));
        this.identity = newIdentity;
    }

    public DeviceIdentity identity() {
        return identity;
    }

    /** {@code GET /v1/whoami} on the device listener. */
    public Whoami whoami() throws DeviceException {
        return Whoami.parse(GatewayHttp.json(get(identity.state().deviceUrl(), "/v1/whoami")));
    }

    /** {@code GET path} on a gateway listener; the response when it is 2xx, else a {@link DeviceException}. */
    public HttpResponse<byte[]> get(URI base, String path) throws DeviceException {
        return send(GatewayHttp.request(base, path).GET().build());
    }

    /** Sends any request over the device's mTLS client; non-2xx answers become a {@link DeviceException}. */
    public HttpResponse<byte[]> send(HttpRequest request) throws DeviceException {
        crls.ensureLoaded();
        return GatewayHttp.send(http, request);
    }

    /**
     * Sends a request and returns the body as a stream when the answer is 2xx (the caller closes it); other answers
     * become a {@link DeviceException}. For large downloads that must not be held in memory.
     */
    public HttpResponse<java.io.InputStream> stream(HttpRequest request) throws DeviceException {
        crls.ensureLoaded();
        return GatewayHttp.sendStreaming(http, request);
    }

    /**
     * What the gateway announces about its roots ({@code /.well-known/siteward}: the trusted roots and the root
     * rollover certificates), fetched over this pinned client; {@link RootAdoption} decides what to make of it.
     */
    public dev.siteward.device.trust.RootAdoption.Offer rootOffer() throws DeviceException {
        HttpResponse<byte[]> r = get(identity.state().enrollUrl(), "/.well-known/siteward");
        try {
            return dev.siteward.device.trust.RootAdoption.Offer.parse(GatewayHttp.json(r));
        } catch (java.security.cert.CertificateException e) {
            throw new DeviceException(Reason.PROTOCOL, "/.well-known/siteward: unreadable root certificates", e);
        }
    }

    /** The gateway's CRLs this client checks the gateway's chain against (fetched over the pinned channel). */
    public GatewayCrls crls() {
        crls.ensureLoaded();
        return crls;
    }

    /** A request builder for {@code path} on {@code base} with the SDK's request timeout. */
    public static HttpRequest.Builder request(URI base, String path) {
        return GatewayHttp.request(base, path);
    }

    /**
     * EST {@code simplereenroll} (RFC 7030 section 4.2.2) on the enrollment listener, authenticated by the current
     * certificate; returns the new chain as the gateway sent it (leaf first).
     */
    public List<X509Certificate> simplereenroll(byte[] csrDer) throws DeviceException {
        HttpRequest req = GatewayHttp.request(identity.state().enrollUrl(), "/.well-known/est/simplereenroll")
                .header("Content-Type", EstCodec.PKCS10)
                .POST(HttpRequest.BodyPublishers.ofString(EstCodec.base64(csrDer))).build();
        List<X509Certificate> certs = GatewayHttp.certsOnly(send(req));
        if (certs.isEmpty()) {
            throw new DeviceException(Reason.PROTOCOL, "simplereenroll returned no certificate");
        }
        return certs;
    }
}
