package dev.siteward.gateway.authorization;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.SpiffeId;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * {@code POST /v1/actions/{action}} on the device listener: may the caller (its mTLS identity) do this now? The answer
 * carries the decision id, effect, reason and deciding rules, and on allow an action grant (see {@link ActionService}).
 * A deny is a 200 answer with {@code "effect": "deny"}; a malformed request is a 400.
 */
@Controller("/v1/actions")
@ExecuteOn(TaskExecutors.BLOCKING)
public class ActionController {

    private final ActionService actions;

    public ActionController(ActionService actions) {
        this.actions = actions;
    }

    @Post(uri = "/{action}", consumes = {MediaType.APPLICATION_JSON, MediaType.TEXT_PLAIN})
    public ActionService.ActionAnswer decide(HttpRequest<?> request, @PathVariable String action,
                                             @Nullable @Body String body) throws GatewayException, StoreException {
        SpiffeId caller = RequestContext.identity(request);
        List<X509Certificate> chain = RequestContext.peerChain(request);
        return actions.decide(caller, chain.isEmpty() ? null : chain.get(0), action, body);
    }
}
