package dev.siteward.gateway.retention;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.gateway.store.StoreException;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * Retention in the admin API (what {@code siteward data export} and {@code siteward retention report} call while
 * the gateway runs): {@code GET /v1/admin/data/export?class=C&since=T} (NDJSON), {@code GET
 * /v1/admin/retention/report}, {@code POST /v1/admin/retention/purge} (run the purge now).
 */
@Controller("/v1/admin")
@ExecuteOn(TaskExecutors.BLOCKING)
public class RetentionAdminController {

    /** The header carrying the number of lines in an export. */
    public static final String LINES_HEADER = "X-Siteward-Export-Lines";

    private final DataExport export;
    private final RetentionReport report;
    private final RetentionPurge purge;

    public RetentionAdminController(DataExport export, RetentionReport report, RetentionPurge purge) {
        this.export = export;
        this.report = report;
        this.purge = purge;
    }

    @Get(value = "/data/export{?class,since}", produces = "application/x-ndjson")
    public HttpResponse<byte[]> export(HttpRequest<?> request, @Nullable @QueryValue("class") String dataClass,
                                       @Nullable @QueryValue String since)
            throws GatewayException, StoreException {
        RequestContext.admin(request);
        if (dataClass == null || dataClass.isBlank()) {
            throw new GatewayException(Reason.BAD_REQUEST, "class is required");
        }
        if (since == null || since.isBlank()) {
            throw new GatewayException(Reason.BAD_REQUEST, "since is required (an ISO-8601 instant)");
        }
        Instant from;
        try {
            from = Instant.parse(since);
        } catch (DateTimeParseException e) {
            throw new GatewayException(Reason.BAD_REQUEST, "since must be an ISO-8601 instant such as "
                    + "2026-01-15T10:00:00Z");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            long n = export.export(dataClass, from, out);
            return HttpResponse.ok(out.toByteArray()).contentType(MediaType.of("application/x-ndjson"))
                    .header(LINES_HEADER, Long.toString(n));
        } catch (IOException e) {
            throw new GatewayException(Reason.INTERNAL, "cannot export: " + e.getMessage(), e);
        }
    }

    @Get("/retention/report")
    public RetentionReport.Report report(HttpRequest<?> request) throws GatewayException, StoreException {
        RequestContext.admin(request);
        return report.report();
    }

    @Post("/retention/purge")
    public RetentionPurge.Result purge(HttpRequest<?> request) throws GatewayException, StoreException {
        RequestContext.admin(request);
        return purge.run();
    }
}
