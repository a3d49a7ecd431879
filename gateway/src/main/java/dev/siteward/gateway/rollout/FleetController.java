package dev.siteward.gateway.rollout;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.gateway.store.StoreException;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.util.Map;

/** {@code GET /v1/admin/fleet/health}: every device's latest heartbeat, running models and health (or stale). */
@Controller("/v1/admin/fleet")
@ExecuteOn(TaskExecutors.BLOCKING)
public class FleetController {

    private final FleetHealth fleet;

    public FleetController(FleetHealth fleet) {
        this.fleet = fleet;
    }

    @Get("/health")
    public Map<String, FleetHealth.DeviceHealth> health(HttpRequest<?> request) throws GatewayException,
            StoreException {
        RequestContext.admin(request);
        return fleet.all();
    }
}
