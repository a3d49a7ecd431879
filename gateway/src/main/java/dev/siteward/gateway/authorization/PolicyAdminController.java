package dev.siteward.gateway.authorization;

import com.fasterxml.jackson.databind.JsonNode;
import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.SpiffeId;
import io.micronaut.core.annotation.Nullable;
import dev.siteward.gateway.server.ErrorBodies;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The policy part of the admin API (admin certificates only), used by {@code siteward policy push|status|mode|
 * explain|diff} while the gateway runs: {@code GET /v1/admin/policy} (status), {@code POST /v1/admin/policy} (install
 * a signed bundle sent as {@code {"files": {name: base64}, "signature": base64}}), {@code GET|POST
 * /v1/admin/policy/mode}, {@code POST /v1/admin/policy/explain}, {@code GET /v1/admin/policy/decisions?days=N}.
 */
@Controller("/v1/admin/policy")
@ExecuteOn(TaskExecutors.BLOCKING)
public class PolicyAdminController {

    private final PolicyService policies;
    private final PolicyAdminOperations operations;

    public PolicyAdminController(PolicyService policies, DecisionLog log) {
        this.policies = policies;
        this.operations = new PolicyAdminOperations(policies, log);
    }

    @Get
    public PolicyService.Status status(HttpRequest<?> request) throws GatewayException {
        RequestContext.admin(request);
        return policies.status();
    }

    @Post(consumes = MediaType.APPLICATION_JSON)
    public HttpResponse<?> push(HttpRequest<?> request, @Nullable @Body String body) throws GatewayException {
        SpiffeId admin = RequestContext.admin(request);
        JsonNode root = ActionService.parse(body);
        try {
            return HttpResponse.ok(operations.push(PolicyAdminOperations.bundleFromJson(root), "push by " + admin));
        } catch (PolicyAdminOperations.BundleRefused e) {
            return ErrorBodies.of(e.status(), e.bundleException().code(), e.getMessage());
        }
    }

    @Get("/mode")
    public Map<String, String> mode(HttpRequest<?> request) throws GatewayException {
        RequestContext.admin(request);
        return Map.of("mode", policies.siteMode());
    }

    @Post(uri = "/mode", consumes = MediaType.APPLICATION_JSON)
    public Map<String, String> setMode(HttpRequest<?> request, @Nullable @Body String body) throws GatewayException {
        SpiffeId admin = RequestContext.admin(request);
        JsonNode root = ActionService.parse(body);
        JsonNode mode = root.get("mode");
        if (mode == null || !mode.isTextual() || root.size() != 1) {
            throw new GatewayException(Reason.BAD_REQUEST, "expected {\"mode\": \"maintenance\"}");
        }
        try {
            policies.setSiteMode(mode.asText(), admin.toString());
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.BAD_REQUEST, e.getMessage());
        } catch (IOException e) {
            throw new GatewayException(Reason.INTERNAL, "cannot persist the site mode", e);
        }
        return Map.of("mode", policies.siteMode());
    }

    @Post(uri = "/explain", consumes = MediaType.APPLICATION_JSON)
    public Map<String, Object> explain(HttpRequest<?> request, @Nullable @Body String body)
            throws GatewayException {
        RequestContext.admin(request);
        return operations.explain(ActionService.parse(body));
    }

    @Get("/decisions{?days}")
    public List<Map<String, Object>> decisions(HttpRequest<?> request, @Nullable @QueryValue Integer days)
            throws GatewayException, StoreException {
        RequestContext.admin(request);
        if (days == null || days < 1 || days > 3650) {
            throw new GatewayException(Reason.BAD_REQUEST, "days must be between 1 and 3650");
        }
        return operations.decisions(Instant.now(policies.clock()).minus(Duration.ofDays(days)));
    }
}
