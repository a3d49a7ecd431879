package dev.siteward.gateway.time;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.server.RequestContext;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.io.IOException;

/**
 * {@code /v1/admin/time}: the gateway's clock and the latest time it recorded ({@code GET}, any role), and
 * {@code POST /v1/admin/time/accept} (role security): an operator confirms the clock is right.
 */
@Controller("/v1/admin/time")
@ExecuteOn(TaskExecutors.BLOCKING)
public class TimeController {

    private final TimeGuard guard;

    public TimeController(TimeGuard guard) {
        this.guard = guard;
    }

    @Get
    public TimeGuard.Status show(HttpRequest<?> request) throws GatewayException {
        RequestContext.admin(request);
        return guard.status();
    }

    @Post("/accept")
    public TimeGuard.Status accept(HttpRequest<?> request) throws GatewayException, IOException {
        return guard.accept(RequestContext.admin(request).name());
    }
}
