package dev.siteward.gateway.server;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.store.StoreException;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Maps the gateway's failures to HTTP in one place: the stable code and safe message to the client, causes to the log. */
public final class GatewayExceptionHandlers {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayExceptionHandlers.class);

    private GatewayExceptionHandlers() {
    }

    /** {@link GatewayException}: its own status and code. */
    @Produces
    @Singleton
    @Requires(classes = {GatewayException.class, ExceptionHandler.class})
    public static class Gateway implements ExceptionHandler<GatewayException, HttpResponse<?>> {
        @Override
        public HttpResponse<?> handle(HttpRequest request, GatewayException e) {
            if (e.clientError()) {
                LOG.info("{} {} refused: {} ({})", request.getMethodName(), request.getPath(), e.reason().code(),
                        e.getMessage());
            } else {
                LOG.error("{} {} failed: {}", request.getMethodName(), request.getPath(), e.getMessage(), e);
            }
            return ErrorBodies.of(e);
        }
    }

    /** The database is unreachable: 503, nothing half-done (work runs in transactions). */
    @Produces
    @Singleton
    @Requires(classes = {StoreException.class, ExceptionHandler.class})
    public static class Store implements ExceptionHandler<StoreException, HttpResponse<?>> {
        @Override
        public HttpResponse<?> handle(HttpRequest request, StoreException e) {
            LOG.error("{} {}: database failure", request.getMethodName(), request.getPath(), e);
            return ErrorBodies.of(503, "gateway.unavailable", "the gateway's database is unavailable; retry later");
        }
    }
}
