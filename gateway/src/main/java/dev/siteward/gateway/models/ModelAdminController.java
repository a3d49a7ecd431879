package dev.siteward.gateway.models;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.audit.AuditActor;
import dev.siteward.gateway.audit.AuditEvent;
import dev.siteward.gateway.audit.AuditTrail;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.gateway.store.StoreException;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Put;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.io.IOException;
import java.io.InputStream;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The model repository's admin API (admin certificates only), used by {@code siteward model publish|release|withdraw|
 * list} while the gateway runs. Model files are streamed, one raw body per file, to a staging upload that hashes as
 * it writes; {@code publish} then verifies the staged files and stores them.
 */
@Controller("/v1/admin/models")
@ExecuteOn(TaskExecutors.BLOCKING)
public class ModelAdminController {

    private final ModelRepository repository;
    private final AuditTrail audit;

    public ModelAdminController(ModelRepository repository, AuditTrail audit) {
        this.repository = repository;
        this.audit = audit;
    }

    @Post("/uploads")
    public Map<String, String> newUpload(HttpRequest<?> request) throws GatewayException, IOException {
        RequestContext.admin(request);
        return Map.of("upload", repository.newUpload());
    }

    @Put(value = "/uploads/{id}/files{?path}", consumes = MediaType.APPLICATION_OCTET_STREAM)
    public Map<String, Object> uploadFile(HttpRequest<?> request, @PathVariable String id,
                                          @Nullable @QueryValue String path, @Body InputStream body)
            throws GatewayException, IOException, ModelException {
        RequestContext.admin(request);
        try (InputStream in = body) {
            return repository.stageFile(id, path, in);
        }
    }

    @Delete("/uploads/{id}")
    public Map<String, String> discard(HttpRequest<?> request, @PathVariable String id) throws GatewayException {
        RequestContext.admin(request);
        repository.discardUpload(id);
        return Map.of("upload", id, "status", "discarded");
    }

    /** Body of {@code POST /v1/admin/models/publish}. */
    public record PublishRequest(String upload, String name, Long version, String signature,
                                 @Nullable Boolean singleFile) {
    }

    @Post("/publish")
    public ModelRepository.Published publish(HttpRequest<?> request, @Body PublishRequest body)
            throws GatewayException, IOException, ModelException, StoreException {
        RequestContext.admin(request);
        if (body == null || body.upload() == null || body.name() == null || body.version() == null
                || body.signature() == null) {
            throw ModelException.badInput("upload, name, version and signature are required");
        }
        ModelRepository.Published published = repository.publish(body.upload(),
                Boolean.TRUE.equals(body.singleFile()), body.name(), body.version(), decode(body.signature()));
        audit.record(AuditEvent.of(AuditEvent.MODEL_PUBLISH).actor(AuditActor.current())
                .subject("model/" + published.name()).detail("action", "publish")
                .detail("version", published.version()).detail("publisher", published.publisher())
                .detail("files", published.files()).detail("bytes", published.bytes())
                .detail("signatureSha256", published.signatureSha256()).build());
        return published;
    }

    /** Body of {@code POST /v1/admin/models/release}. */
    public record ReleaseRequest(String name, Long version, String channel, @Nullable List<String> classes) {
    }

    @Post("/release")
    public ModelRepository.Release release(HttpRequest<?> request, @Body ReleaseRequest body)
            throws GatewayException, ModelException, StoreException {
        RequestContext.admin(request);
        if (body == null || body.name() == null || body.version() == null || body.channel() == null) {
            throw ModelException.badInput("name, version and channel are required");
        }
        ModelRepository.Release release = repository.release(body.name(), body.version(), body.channel(),
                body.classes());
        audit.record(AuditEvent.of(AuditEvent.MODEL_PUBLISH).actor(AuditActor.current())
                .subject("model/" + release.model()).detail("action", "release")
                .detail("version", release.version()).detail("channel", release.channel())
                .detail("classes", release.classes() == null ? List.of() : release.classes())
                .detail("rollbackFrom", release.rollbackFrom() == null ? -1 : release.rollbackFrom()).build());
        return release;
    }

    /** Body of {@code POST /v1/admin/models/withdrawals}. */
    public record WithdrawRequest(String signature) {
    }

    @Post("/withdrawals")
    public Map<String, Object> withdraw(HttpRequest<?> request, @Body WithdrawRequest body)
            throws GatewayException, ModelException, StoreException, IOException {
        RequestContext.admin(request);
        if (body == null || body.signature() == null) {
            throw ModelException.badInput("signature is required");
        }
        ModelRepository.StoredWithdrawal stored = repository.withdraw(decode(body.signature()));
        Map<String, Object> answer = withdrawn(stored);
        audit.record(AuditEvent.of(AuditEvent.MODEL_PUBLISH).actor(AuditActor.current())
                .subject("model/" + stored.withdrawal().modelName()).detail("action", "withdraw")
                .detail("withdrawal", answer).build());
        return answer;
    }

    @Get
    public List<ModelRepository.ModelSummary> list(HttpRequest<?> request) throws GatewayException, StoreException {
        RequestContext.admin(request);
        return repository.list();
    }

    /** The JSON form of a stored withdrawal, shared with the CLI. */
    public static Map<String, Object> withdrawn(ModelRepository.StoredWithdrawal w) {
        return Map.of("model", w.withdrawal().modelName(),
                "withdrawnBelow", w.withdrawal().withdrawnBelow().isPresent()
                        ? w.withdrawal().withdrawnBelow().getAsLong() : -1,
                "withdrawnVersions", w.withdrawal().withdrawnVersions(), "publisher", w.publisher(),
                "sha256", w.bundleSha256());
    }

    private static byte[] decode(String base64) throws ModelException {
        try {
            return Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw ModelException.badInput("signature must be base64");
        }
    }
}
