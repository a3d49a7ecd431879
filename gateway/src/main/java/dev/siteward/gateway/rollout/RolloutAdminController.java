package dev.siteward.gateway.rollout;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.models.ModelException;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.gateway.store.StoreException;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Rollouts' admin API (docs/rollouts.md), used by {@code siteward rollout ...} while the gateway runs. */
@Controller("/v1/admin/rollouts")
@ExecuteOn(TaskExecutors.BLOCKING)
public class RolloutAdminController {

    private final RolloutService rollouts;

    public RolloutAdminController(RolloutService rollouts) {
        this.rollouts = rollouts;
    }

    /** Body of {@code POST /v1/admin/rollouts}. */
    public record StartBody(String name, Long version, String channel, String stages, @Nullable Long soakSeconds,
                            @Nullable Double maxFailure, @Nullable Boolean autoRollback,
                            @Nullable Long shadowSeconds, @Nullable Double shadowTolerance) {
    }

    @Post
    public RolloutService.RolloutStatus start(HttpRequest<?> request, @Body StartBody body)
            throws GatewayException, ModelException, StoreException {
        RequestContext.admin(request);
        if (body == null || body.name() == null || body.version() == null || body.channel() == null
                || body.stages() == null) {
            throw new ModelException(ModelException.Kind.BAD_INPUT, "rollout.invalid",
                    "name, version, channel and stages are required");
        }
        Rollout r = rollouts.start(new RolloutService.StartRequest(body.name(), body.name(), body.version(),
                body.channel(), body.stages(), Duration.ofSeconds(body.soakSeconds() == null ? 0 : body.soakSeconds()),
                body.maxFailure() == null ? RolloutService.DEFAULT_MAX_FAILURE : body.maxFailure(),
                Boolean.TRUE.equals(body.autoRollback()),
                body.shadowSeconds() == null ? null : Duration.ofSeconds(body.shadowSeconds()),
                body.shadowTolerance()));
        return rollouts.status(r.id());
    }

    @Get
    public List<RolloutService.RolloutStatus> list(HttpRequest<?> request) throws GatewayException, ModelException,
            StoreException {
        RequestContext.admin(request);
        List<RolloutService.RolloutStatus> out = new ArrayList<>();
        for (Rollout r : rollouts.list(100)) {
            out.add(rollouts.status(r.id()));
        }
        return out;
    }

    @Get("/{id}")
    public RolloutService.RolloutStatus status(HttpRequest<?> request, @PathVariable String id)
            throws GatewayException, ModelException, StoreException {
        RequestContext.admin(request);
        return rollouts.status(id);
    }

    @Post("/{id}/{action}")
    public RolloutService.RolloutStatus act(HttpRequest<?> request, @PathVariable String id,
                                            @PathVariable String action, @Nullable @Body Map<String, Object> body)
            throws GatewayException, ModelException, StoreException {
        RequestContext.admin(request);
        switch (action) {
            case "pause" -> rollouts.pause(id);
            case "resume" -> rollouts.resume(id);
            case "abort" -> rollouts.abort(id);
            case "rollback" -> rollouts.rollback(id);
            default -> throw new ModelException(ModelException.Kind.NOT_FOUND, "rollout.unknown_action",
                    "unknown action '" + action + "': pause, resume, abort or rollback");
        }
        return rollouts.status(id);
    }
}
