package dev.siteward.gateway.audit;

import dev.siteward.gateway.server.RequestContext;
import dev.siteward.pki.SpiffeId;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;
import io.micronaut.http.context.ServerRequestContext;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.util.Optional;

/**
 * Records one {@code admin_call} audit record per admin API request, after it was answered or refused: the caller
 * ({@code admin/<name>}, another identity that was refused, or {@code unauthenticated}), method, path (no query)
 * and status.
 */
@ServerFilter("/v1/admin/**")
@Requires(beans = AuditLog.class)
public class AdminCallAuditFilter {

    private final AuditLog audit;

    public AdminCallAuditFilter(AuditLog audit) {
        this.audit = audit;
    }

    /** The current request's authenticated identity, as an actor name. */
    static Optional<String> currentIdentity() {
        return ServerRequestContext.currentRequest()
                .flatMap(r -> r.getAttribute(RequestContext.IDENTITY, SpiffeId.class)).map(AdminCallAuditFilter::actor);
    }

    static String actor(SpiffeId id) {
        return id.kind().segment() + "/" + id.name();
    }

    @ResponseFilter
    @ExecuteOn(TaskExecutors.BLOCKING)
    public void record(HttpRequest<?> request, MutableHttpResponse<?> response) {
        Optional<SpiffeId> id = request.getAttribute(RequestContext.IDENTITY, SpiffeId.class);
        audit.record(AuditEvent.of(AuditEvent.ADMIN_CALL).actor(id.map(AdminCallAuditFilter::actor)
                        .orElse("unauthenticated")).subject(request.getPath())
                .detail("method", request.getMethodName()).detail("status", response.code()).build());
    }
}
