package dev.siteward.gateway.retention;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.SpiffeId;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code POST /v1/data/{class}} over mTLS, devices only: JSON records ({@code application/json}, one object or an
 * array) or, for {@code blobs}, the raw body (any other content type), streamed into the store up to
 * {@code siteward.retention.max-blob-bytes} (the 1 MiB limit of other requests does not apply to it). Answers 201
 * with the stored ids.
 */
@Controller("/v1/data")
@ExecuteOn(TaskExecutors.BLOCKING)
public class DataController {

    private static final String BLOBS = "blobs";

    private final DataRecords records;

    public DataController(DataRecords records) {
        this.records = records;
    }

    /** Blobs: the body is streamed, not buffered, so it may exceed the 1 MiB limit of buffered request bodies. */
    @Post(value = "/blobs", consumes = MediaType.ALL)
    public HttpResponse<Map<String, Object>> ingestBlob(HttpRequest<?> request, @Body InputStream body)
            throws GatewayException, StoreException, IOException {
        SpiffeId id = device(request);
        String type = request.getContentType().map(MediaType::getName).orElse("");
        DataRecords.Ingested in;
        try (InputStream stream = body) {
            in = type.equals(MediaType.APPLICATION_JSON)
                    // refused as JSON to a raw class (415), after the class's own checks; the body is not read
                    ? records.ingestRecords(BLOBS, id.name(), new byte[0])
                    : records.ingestBlob(BLOBS, id.name(), type, stream, request.getContentLength());
        }
        return created(BLOBS, in);
    }

    @Post(value = "/{dataClass}", consumes = MediaType.ALL)
    public HttpResponse<Map<String, Object>> ingest(HttpRequest<?> request, @PathVariable String dataClass,
                                                    @Nullable @Body byte[] body)
            throws GatewayException, StoreException {
        SpiffeId id = device(request);
        byte[] bytes = body == null ? new byte[0] : body;
        String type = request.getContentType().map(MediaType::getName).orElse("");
        DataRecords.Ingested in = type.equals(MediaType.APPLICATION_JSON)
                ? records.ingestRecords(dataClass, id.name(), bytes)
                : records.ingestBlob(dataClass, id.name(), type, bytes);
        return created(dataClass, in);
    }

    private static SpiffeId device(HttpRequest<?> request) throws GatewayException {
        SpiffeId id = RequestContext.identity(request);
        if (id.kind() != SpiffeId.Kind.DEVICE) {
            throw new GatewayException(Reason.FORBIDDEN, "only devices send data");
        }
        return id;
    }

    private static HttpResponse<Map<String, Object>> created(String dataClass, DataRecords.Ingested in) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("class", dataClass);
        m.put("count", in.ids().size());
        m.put("bytes", in.bytes());
        m.put("time", in.at().toString());
        m.put("ids", in.ids());
        return HttpResponse.created(m);
    }
}
