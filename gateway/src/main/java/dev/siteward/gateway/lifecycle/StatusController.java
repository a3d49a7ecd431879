package dev.siteward.gateway.lifecycle;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.cli.DurationText;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.gateway.store.StoreException;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.time.Duration;

/** {@code GET /v1/admin/status?window=14d}: the expiry watch ({@code siteward status} while the gateway runs). */
@Controller("/v1/admin/status")
@ExecuteOn(TaskExecutors.BLOCKING)
public class StatusController {

    private final ExpiryWatch watch;

    public StatusController(ExpiryWatch watch) {
        this.watch = watch;
    }

    @Get
    public ExpiryWatch.Report status(HttpRequest<?> request, @Nullable @QueryValue String window)
            throws GatewayException, StoreException {
        RequestContext.admin(request);
        Duration w;
        try {
            w = window == null ? ExpiryWatch.DEFAULT_WINDOW : DurationText.parse(window);
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.BAD_REQUEST, e.getMessage());
        }
        return watch.report(w);
    }
}
