package dev.siteward.gateway.limits;

import dev.siteward.gateway.server.ErrorBodies;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.pki.SpiffeId;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.core.order.Ordered;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;

/**
 * Applies the per-device quotas to every device-listener request of an authenticated device (after the request
 * filter has verified its certificate): {@code 429 {"code":"request.rate_limited"}} with {@code Retry-After} in
 * seconds. A body is charged by its declared {@code Content-Length}; a body of unknown length (chunked) is charged
 * as the largest body a route accepts.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
public class DeviceQuotaFilter implements Ordered {

    private final DeviceQuotas quotas;

    public DeviceQuotaFilter(DeviceQuotas quotas) {
        this.quotas = quotas;
    }

    @Override
    public int getOrder() {
        return HIGHEST_PRECEDENCE + 2;
    }

    @RequestFilter
    @Nullable
    public HttpResponse<?> filter(HttpRequest<?> request) {
        if (!quotas.enabled()) {
            return null;
        }
        SpiffeId id = request.getAttribute(RequestContext.IDENTITY, SpiffeId.class).orElse(null);
        if (id == null || id.kind() != SpiffeId.Kind.DEVICE) {
            return null;
        }
        return quotas.admitRequest(id.name(), bodyBytes(request))
                .<HttpResponse<?>>map(r -> ErrorBodies.of(429, "request.rate_limited", r.message())
                        .header("Retry-After", Long.toString(r.retryAfterSeconds())))
                .orElse(null);
    }

    static long bodyBytes(HttpRequest<?> request) {
        long length = request.getContentLength();
        if (length >= 0) {
            return length;
        }
        HttpMethod m = request.getMethod();
        boolean body = m == HttpMethod.POST || m == HttpMethod.PUT || m == HttpMethod.PATCH;
        boolean chunked = request.getHeaders().contains("Transfer-Encoding");
        return body && chunked ? DeviceQuotas.MAX_REQUEST_BODY : 0;
    }
}
