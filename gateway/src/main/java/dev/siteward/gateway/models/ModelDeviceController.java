package dev.siteward.gateway.models;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.modelsig.ModelNames;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;
import org.slf4j.LoggerFactory;

/**
 * The device side of the release repository (docs/model-releases.md, "Device API"): the trust document, the device's
 * release metadata, blobs by digest (only those the device's current metadata lists; Range, ETag) and install
 * reports. Every route runs off the event loop; blobs stream from disk and are re-hashed as they go.
 */
@Controller("/v1/models")
@ExecuteOn(TaskExecutors.BLOCKING)
public class ModelDeviceController {

    private static final Logger LOG = LoggerFactory.getLogger(ModelDeviceController.class);
    static final String JOSE = "application/jose";
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d{0,19})-(\\d{0,19})");
    private static final Set<String> RESULTS = Set.of("installed", "failed", "refused", "fallback", "healthy");

    private final ReleaseMetadata metadata;
    private final ModelRepository repository;
    private final GatewayStore store;
    private final Clock clock;

    public ModelDeviceController(ReleaseMetadata metadata, ModelRepository repository, GatewayStore store,
                                 Clock clock) {
        this.metadata = metadata;
        this.repository = repository;
        this.store = store;
        this.clock = clock;
    }

    @Get(value = "/trust", produces = {JOSE, "application/json"})
    public HttpResponse<String> trust(HttpRequest<?> request) throws GatewayException, ModelException,
            StoreException {
        RequestContext.identity(request);
        return HttpResponse.ok(metadata.trust().jws()).contentType(JOSE).header("Cache-Control", "no-store");
    }

    @Get(value = "/metadata", produces = {JOSE, "application/json"})
    public HttpResponse<String> metadata(HttpRequest<?> request) throws GatewayException, ModelException,
            StoreException, IOException {
        String device = device(request);
        return HttpResponse.ok(metadata.metadata(device).jws()).contentType(JOSE).header("Cache-Control", "no-store");
    }

    @Get("/blobs/{sha256}")
    public HttpResponse<?> blob(HttpRequest<?> request, @PathVariable("sha256") String sha256)
            throws GatewayException, ModelException, StoreException, IOException {
        String device = device(request);
        if (!BlobStore.isDigest(sha256) || !metadata.metadata(device).digests().contains(sha256)) {
            throw ModelException.notFound("no such blob for this device");
        }
        Long size = store.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT size FROM model_blobs WHERE sha256 = ?")) {
                ps.setString(1, sha256);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : null;
                }
            }
        });
        Path file = repository.blobs().path(sha256);
        if (size == null || !Files.isRegularFile(file) || Files.size(file) != size) {
            flagCorrupt(sha256);
            throw new ModelException(ModelException.Kind.INTERNAL, "model.blob_corrupt", "blob " + sha256
                    + " is missing or changed on disk");
        }
        String etag = "\"sha256:" + sha256 + "\"";
        String inm = request.getHeaders().get("If-None-Match");
        if (inm != null && (inm.strip().equals("*") || java.util.Arrays.stream(inm.split(","))
                .map(String::strip).anyMatch(t -> t.equals(etag) || t.equals("W/" + etag)))) {
            return HttpResponse.notModified().header("ETag", etag);
        }
        long first = 0;
        long last = size - 1;
        boolean partial = false;
        String range = request.getHeaders().get("Range");
        if (range != null) {
            Matcher m = RANGE.matcher(range.strip());
            long[] r = m.matches() ? parseRange(m.group(1), m.group(2), size) : null;
            if (r == null) {
                return HttpResponse.status(HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                        .header("Content-Range", "bytes */" + size).header("ETag", etag)
                        .header("Content-Type", "application/json")
                        .body(Map.of("code", "request.range_not_satisfiable", "message", "range '" + range
                                + "' is not satisfiable for a blob of " + size + " bytes"));
            }
            first = r[0];
            last = r[1];
            partial = true;
        }
        VerifyingBlobStream stream = new VerifyingBlobStream(file, first, last, size, sha256,
                () -> flagCorrupt(sha256));
        // 256 KiB chunks read and hashed on the blocking pool, one at a time as the connection asks for them
        Flux<byte[]> body = Flux.<byte[], VerifyingBlobStream>generate(() -> stream, (s, sink) -> {
            try {
                byte[] chunk = s.nextChunk();
                if (chunk == null) {
                    sink.complete();
                } else {
                    sink.next(chunk);
                }
            } catch (IOException e) {
                LOG.warn("blob {} to {}: response cut short: {}", sha256, device, e.getMessage());
                sink.error(e);
            }
            return s;
        }, ModelDeviceController::closeQuietly).subscribeOn(Schedulers.boundedElastic());
        MutableHttpResponse<Flux<byte[]>> response = partial
                ? HttpResponse.<Flux<byte[]>>status(HttpStatus.PARTIAL_CONTENT).body(body)
                        .header("Content-Range", "bytes " + first + "-" + last + "/" + size)
                : HttpResponse.ok(body);
        return response.contentType("application/octet-stream").contentLength(last - first + 1)
                .header("ETag", etag).header("Accept-Ranges", "bytes").header("Cache-Control", "no-store");
    }

    private static void closeQuietly(VerifyingBlobStream s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // read-only file
        }
    }

    /** {@code [first, last]} for {@code bytes=N-}, {@code N-M} or {@code -S}, or null when not satisfiable. */
    static long[] parseRange(String a, String b, long size) {
        try {
            if (a.isEmpty()) {
                if (b.isEmpty()) {
                    return null;
                }
                long suffix = Long.parseLong(b);
                return suffix == 0 || size == 0 ? null : new long[] {Math.max(0, size - suffix), size - 1};
            }
            long first = Long.parseLong(a);
            long last = b.isEmpty() ? size - 1 : Math.min(Long.parseLong(b), size - 1);
            return first >= size || last < first ? null : new long[] {first, last};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private void flagCorrupt(String sha256) {
        LOG.error("blob {} no longer matches its digest on disk: not served; re-publish the model", sha256);
        try {
            store.inTransaction(c -> {
                try (PreparedStatement ps = c.prepareStatement("UPDATE model_blobs SET corrupt_at = ? WHERE sha256 = ? "
                        + "AND corrupt_at IS NULL")) {
                    ps.setTimestamp(1, Timestamp.from(clock.instant()));
                    ps.setString(2, sha256);
                    ps.executeUpdate();
                }
                return null;
            });
        } catch (StoreException e) {
            LOG.error("cannot flag blob {}: {}", sha256, e.getMessage());
        }
    }

    /** Body of {@code POST /v1/models/reports}. */
    public record Report(String model, @Nullable Long version, String result, @Nullable String code,
                         @Nullable String message, @Nullable String snapshot) {
    }

    @Post("/reports")
    public HttpResponse<Map<String, String>> report(HttpRequest<?> request, @Body Report body)
            throws GatewayException, ModelException, StoreException {
        String device = device(request);
        if (body == null || body.model() == null || !ModelNames.isValid(body.model())) {
            throw ModelException.badInput("model must be a model name");
        }
        if (body.version() != null && body.version() < 0) {
            throw ModelException.badInput("version must be a non-negative integer or null");
        }
        if (body.result() == null || !RESULTS.contains(body.result())) {
            throw ModelException.badInput("result must be one of " + new java.util.TreeSet<>(RESULTS));
        }
        if (body.snapshot() != null && !BlobStore.isDigest(body.snapshot())) {
            throw ModelException.badInput("snapshot must be a lower-case hex SHA-256");
        }
        if (body.code() != null && !body.code().matches("[a-z0-9_.]{1,128}")) {
            throw ModelException.badInput("code must be a short code like model.digest_mismatch");
        }
        store.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO model_reports (device_id, model_name, version, "
                    + "result, code, message, snapshot, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, device);
                ps.setString(2, body.model());
                if (body.version() == null) {
                    ps.setNull(3, java.sql.Types.BIGINT);
                } else {
                    ps.setLong(3, body.version());
                }
                ps.setString(4, body.result());
                ps.setString(5, body.code());
                String msg = body.message();
                ps.setString(6, msg == null ? null : msg.length() > 1024 ? msg.substring(0, 1024) : msg);
                ps.setString(7, body.snapshot());
                ps.setTimestamp(8, Timestamp.from(clock.instant()));
                ps.executeUpdate();
            }
            return null;
        });
        return HttpResponse.accepted().body(Map.of("status", "accepted"));
    }

    private static String device(HttpRequest<?> request) throws GatewayException {
        SpiffeId id = RequestContext.identity(request);
        if (id.kind() != SpiffeId.Kind.DEVICE) {
            throw new GatewayException(GatewayException.Reason.FORBIDDEN, "a device certificate is required");
        }
        return id.name();
    }
}
