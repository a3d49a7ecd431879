package dev.siteward.gateway.rollout;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.models.ModelException;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.SpiffeId;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.util.Map;

/** {@code POST /v1/devices/heartbeat}: a device's health figures and running models (device certificates only). */
@Controller("/v1/devices")
@ExecuteOn(TaskExecutors.BLOCKING)
public class HeartbeatController {

    private final FleetHealth fleet;

    public HeartbeatController(FleetHealth fleet) {
        this.fleet = fleet;
    }

    @Post("/heartbeat")
    public HttpResponse<Map<String, Object>> heartbeat(HttpRequest<?> request, @Body FleetHealth.Heartbeat body)
            throws GatewayException, ModelException, StoreException {
        SpiffeId id = RequestContext.identity(request);
        if (id.kind() != SpiffeId.Kind.DEVICE) {
            throw new GatewayException(GatewayException.Reason.FORBIDDEN, "a device certificate is required");
        }
        boolean current = fleet.record(id.name(), body);
        return HttpResponse.accepted().body(Map.of("status", current ? "recorded" : "older than the stored one"));
    }
}
