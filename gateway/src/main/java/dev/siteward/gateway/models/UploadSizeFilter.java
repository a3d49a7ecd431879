package dev.siteward.gateway.models;

import dev.siteward.gateway.server.ErrorBodies;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.core.order.Ordered;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;

/**
 * Keeps the 1 MiB request limit for every route except model file uploads and device blobs
 * ({@code POST /v1/data/blobs}, limited by {@code siteward.retention.max-blob-bytes}). The server's
 * {@code micronaut.server.max-request-size} is raised so that a model file can be streamed to disk
 * ({@code PUT /v1/admin/models/uploads/{id}/files}); bodies that are buffered stay limited by
 * {@code max-request-buffer-size} (1 MiB), and this filter refuses a declared larger body anywhere else up front.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
public class UploadSizeFilter implements Ordered {

    /** The limit for every other route. */
    public static final long MAX_BODY = 1L << 20;

    @Override
    public int getOrder() {
        return HIGHEST_PRECEDENCE + 1;
    }

    @RequestFilter
    @Nullable
    public HttpResponse<?> filter(HttpRequest<?> request) {
        long length = request.getContentLength();
        if (length <= MAX_BODY) {
            return null;
        }
        if (request.getMethod() == HttpMethod.PUT && request.getPath().startsWith("/v1/admin/models/uploads/")) {
            return null;
        }
        if (request.getMethod() == HttpMethod.POST && request.getPath().equals("/v1/data/blobs")) {
            return null; // streamed; limited by siteward.retention.max-blob-bytes (docs/retention.md)
        }
        return ErrorBodies.of(413, "request.too_large", "request body larger than " + MAX_BODY + " bytes");
    }
}
