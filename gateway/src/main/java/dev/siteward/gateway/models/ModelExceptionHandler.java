package dev.siteward.gateway.models;

import dev.siteward.gateway.server.ErrorBodies;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Maps {@link ModelException} to its status with {@code {"code", "message"}}; causes go to the log only. */
@Produces
@Singleton
public class ModelExceptionHandler implements ExceptionHandler<ModelException, HttpResponse<?>> {

    private static final Logger LOG = LoggerFactory.getLogger(ModelExceptionHandler.class);

    @Override
    public HttpResponse<?> handle(HttpRequest request, ModelException e) {
        if (e.kind().status() < 500) {
            LOG.info("{} {} refused: {} ({})", request.getMethodName(), request.getPath(), e.code(), e.getMessage());
        } else {
            LOG.error("{} {} failed: {}", request.getMethodName(), request.getPath(), e.getMessage(), e);
        }
        return ErrorBodies.of(e.kind().status(), e.code(), e.kind().status() >= 500
                ? "the model repository failed; see the gateway log" : e.getMessage());
    }
}
