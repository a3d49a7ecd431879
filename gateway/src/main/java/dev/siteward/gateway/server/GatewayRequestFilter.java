package dev.siteward.gateway.server;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.admins.AdminAuthorization;
import dev.siteward.gateway.authentication.ClientCertificateVerifier;
import dev.siteward.gateway.time.TimeGuard;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.limits.LimitCounters;
import dev.siteward.pki.SpiffeId;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.core.order.Ordered;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;

/**
 * Runs before every route: keeps each listener's routes on that listener (the device API only on the mTLS device
 * listener, EST only on the enrollment listener), authenticates every device-listener request by its client
 * certificate — revocation and suspension are checked per request, so a resumed TLS session cannot outlive a
 * revocation — and rate-limits enrollment per source address.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
public class GatewayRequestFilter implements Ordered {

    private final TlsTermination tls;
    private final ClientCertificateVerifier verifier;
    private final DeviceRegistry devices;
    private final SourceRateLimiter enrollLimiter;
    private final AdminAuthorization adminAuthorization;
    private final TimeGuard time;
    private final LimitCounters limitCounters;

    public GatewayRequestFilter(TlsTermination tls, ClientCertificateVerifier verifier, DeviceRegistry devices,
                                SitewardConfiguration config, Clock clock, AdminAuthorization adminAuthorization,
                                TimeGuard time, LimitCounters limitCounters) {
        this.limitCounters = limitCounters;
        this.adminAuthorization = adminAuthorization;
        this.time = time;
        this.tls = tls;
        this.verifier = verifier;
        this.devices = devices;
        this.enrollLimiter = new SourceRateLimiter(config.getEnrollRatePerSecond(), config.getEnrollBurst(), clock);
    }

    @Override
    public int getOrder() {
        return HIGHEST_PRECEDENCE;
    }

    /** A refusal while the clock is behind the recorded time (nothing acts on a wrong clock), else null. */
    private HttpResponse<?> untrustedClock(String method, String path) {
        if (time.trusted() || TimeGuard.allowedWhileUntrusted(method, path)) {
            return null;
        }
        try {
            time.requireTrusted();
            return null;
        } catch (GatewayException e) {
            return ErrorBodies.of(e);
        }
    }

    @RequestFilter
    @Nullable
    public HttpResponse<?> filter(HttpRequest<?> request) {
        TlsTermination.Listener listener = tls.listenerOf(request.getServerAddress().getPort());
        String path = request.getPath();
        boolean deviceApi = path.startsWith("/v1/");
        boolean health = path.equals("/health");
        if (listener == null) {
            return ErrorBodies.of(404, "request.not_found", "not found");
        }
        if (listener == TlsTermination.Listener.ENROLL) {
            if (deviceApi) {
                return ErrorBodies.of(404, "request.not_found", "the device API is on the device listener");
            }
            if (path.startsWith("/.well-known/est/simple")) {
                String source = request.getRemoteAddress().getAddress().getHostAddress();
                if (!enrollLimiter.tryAcquire(source)) {
                    limitCounters.enrollRequestRefused();
                    return ErrorBodies.of(429, "request.rate_limited", "too many enrollment requests from "
                            + source + "; retry later").header("Retry-After", "1");
                }
            }
            return untrustedClock(request.getMethodName(), path);
        }
        if (!deviceApi) {
            return health ? null : ErrorBodies.of(404, "request.not_found", "not found on the device listener");
        }
        List<X509Certificate> chain = RequestContext.peerChain(request);
        if (chain.isEmpty()) {
            return ErrorBodies.of(401, "auth.certificate_required", "client certificate required");
        }
        try {
            SpiffeId id = verifier.checkStatus(chain.get(0));
            request.setAttribute(RequestContext.IDENTITY, id);
            if (id.kind() == SpiffeId.Kind.DEVICE) {
                devices.touch(id.name());
            }
            // every admin API call (and an admin's device action) needs a role the route table allows
            adminAuthorization.authorize(id, chain.get(0), request.getMethodName(), path, request.getUri().getRawPath())
                    .ifPresent(role -> request.setAttribute(AdminAuthorization.ROLE, role));
            return untrustedClock(request.getMethodName(), path);
        } catch (GatewayException e) {
            return ErrorBodies.of(e);
        }
    }
}
