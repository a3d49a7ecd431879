package dev.siteward.gateway.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.server.ErrorBodies;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.pki.SpiffeId;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Consumes;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code POST /v1/infer/<team>/<name>} on the device listener: one reading ({@code {"seq","ts","features"}}) from
 * an mTLS device, run through the same batcher as MQTT readings; answers the result object of docs/mqtt.md, or
 * {@code {"code": "inference.<code>", "message"}} with 400 (bad reading), 404 (model not released to the device),
 * 413 (too large), 503 with {@code Retry-After} (shed) or 500. Only device certificates may call it.
 */
@Controller("/v1/infer")
@ExecuteOn(TaskExecutors.BLOCKING)
public class InferenceController {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final InferenceService service;
    private final InferenceConfiguration config;

    public InferenceController(InferenceService service, InferenceConfiguration config) {
        this.service = service;
        this.config = config;
    }

    @Post(uri = "/{team}/{name}", processes = MediaType.APPLICATION_JSON)
    @Consumes(MediaType.APPLICATION_JSON)
    public HttpResponse<?> infer(HttpRequest<?> request, @PathVariable String team, @PathVariable String name,
                                 @Body byte[] body) throws GatewayException {
        SpiffeId id = RequestContext.identity(request);
        if (id.kind() != SpiffeId.Kind.DEVICE) {
            return ErrorBodies.of(403, "inference.device_only", "inference is for device certificates");
        }
        if (body == null || body.length > config.getMaxPayloadBytes()) {
            return error(new ReadingError(ReadingError.TOO_LARGE, "body over " + config.getMaxPayloadBytes()
                    + " bytes"));
        }
        JsonNode node;
        try {
            node = JSON.readTree(body);
        } catch (IOException e) {
            return error(new ReadingError(ReadingError.NOT_JSON, "body is not valid JSON"));
        }
        if (node == null || !node.isObject() || !node.has("seq") || !node.get("seq").isIntegralNumber()) {
            return error(new ReadingError(ReadingError.BAD_SHAPE,
                    "body must be {\"seq\": <int>, \"features\": [...]}"));
        }
        JsonNode f = node.get("features");
        if (f == null || !f.isArray()) {
            return error(new ReadingError(ReadingError.BAD_SHAPE, "'features' is required: an array of numbers"));
        }
        double[] features = new double[f.size()];
        for (int i = 0; i < features.length; i++) {
            if (!f.get(i).isNumber()) {
                return error(new ReadingError(ReadingError.BAD_SHAPE, "feature " + i + " is not a number"));
            }
            features[i] = f.get(i).asDouble();
        }
        long seq = node.get("seq").asLong();
        CompletableFuture<InferenceService.Outcome> outcome = new CompletableFuture<>();
        service.submit(id.name(), new InferenceService.Reading(seq, node.path("ts").asText(null), features,
                team + "/" + name), outcome::complete);
        try {
            InferenceService.Outcome o = outcome.get(30, TimeUnit.SECONDS);
            return o.error() != null ? error(o.error()) : HttpResponse.ok(o.result().toMap());
        } catch (TimeoutException | ExecutionException e) {
            return ErrorBodies.of(503, "inference.timeout", "no result within 30 s").header("Retry-After", "1");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ErrorBodies.of(503, "inference.timeout", "interrupted");
        }
    }

    private static HttpResponse<?> error(ReadingError e) {
        int status = switch (e.code()) {
            case ReadingError.UNKNOWN_MODEL -> 404;
            case ReadingError.TOO_LARGE -> 413;
            case ReadingError.SHED -> 503;
            case ReadingError.INFERENCE_FAILED -> 500;
            default -> 400;
        };
        var r = ErrorBodies.of(status, "inference." + e.code(), e.getMessage());
        return status == 503 ? r.header("Retry-After", "1") : r;
    }
}
