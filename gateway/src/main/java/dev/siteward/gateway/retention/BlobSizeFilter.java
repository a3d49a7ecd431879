package dev.siteward.gateway.retention;

import dev.siteward.gateway.server.ErrorBodies;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.core.order.Ordered;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;

/**
 * Refuses a blob whose declared {@code Content-Length} is above {@code siteward.retention.max-blob-bytes} with
 * {@code 413 data.too_large} before its body is read, and before the device's upload quota is charged for it (so the
 * answer says what is wrong instead of "retry later"). A class's smaller {@code maxBlobSize} is checked by
 * {@link DataRecords}, also before the body is read.
 */
@ServerFilter("/v1/data/blobs")
public class BlobSizeFilter implements Ordered {

    private final RetentionSettings settings;

    public BlobSizeFilter(RetentionSettings settings) {
        this.settings = settings;
    }

    @Override
    public int getOrder() {
        // after authentication (HIGHEST_PRECEDENCE), before the device quotas (HIGHEST_PRECEDENCE + 2)
        return HIGHEST_PRECEDENCE + 1;
    }

    @RequestFilter
    @Nullable
    public HttpResponse<?> filter(HttpRequest<?> request) {
        long length = request.getContentLength();
        if (request.getMethod() != HttpMethod.POST || length <= settings.maxBlobBytes()) {
            return null;
        }
        return ErrorBodies.of(413, "data.too_large", "the blob is " + length + " bytes; the gateway accepts at most "
                + settings.maxBlobBytes() + " (siteward.retention.max-blob-bytes)");
    }
}
