package dev.siteward.gateway.audit;

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
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.http.server.types.files.StreamedFile;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The audit log in the admin API (admin certificates only): {@code GET /v1/admin/audit/verify} and
 * {@code GET /v1/admin/audit/export?since=<ISO-8601 instant>} (NDJSON), what {@code siteward audit verify|export}
 * call while the gateway runs.
 */
@Controller("/v1/admin/audit")
@ExecuteOn(TaskExecutors.BLOCKING)
public class AuditController {

    /** The header carrying the number of records in an export. */
    public static final String RECORDS_HEADER = "X-Siteward-Audit-Records";

    private final AuditLog audit;

    public AuditController(AuditLog audit) {
        this.audit = audit;
    }

    @Get("/verify")
    public Map<String, Object> verify(HttpRequest<?> request) throws GatewayException, StoreException {
        RequestContext.admin(request);
        return verificationJson(audit.verify());
    }

    /** The JSON form of a verification, shared with the CLI. */
    public static Map<String, Object> verificationJson(AuditVerification v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("intact", v.intact());
        m.put("position", v.position());
        m.put("problem", v.problem());
        m.put("firstSeq", v.firstSeq());
        m.put("lastSeq", v.lastSeq());
        m.put("records", v.records());
        m.put("checkpoints", v.checkpoints());
        m.put("headSeq", v.headSeq());
        m.put("recoveries", v.recoveries());
        m.put("summary", v.summary());
        return m;
    }

    @Get(value = "/export{?since}", produces = "application/x-ndjson")
    public HttpResponse<StreamedFile> export(HttpRequest<?> request, @Nullable @QueryValue String since)
            throws GatewayException, StoreException {
        RequestContext.admin(request);
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
        // spooled to a private temporary file (any size, little memory), unlinked while the answer streams from it
        Path spool = null;
        try {
            spool = Files.createTempFile("siteward-audit-export", ".ndjson",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            long n;
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(spool))) {
                n = audit.export(from, out);
            }
            InputStream in = Files.newInputStream(spool);
            return HttpResponse.ok(new StreamedFile(in, MediaType.of("application/x-ndjson")))
                    .header(RECORDS_HEADER, Long.toString(n));
        } catch (IOException e) {
            throw new GatewayException(Reason.INTERNAL, "cannot export the audit log: " + e.getMessage(), e);
        } finally {
            if (spool != null) {
                try {
                    Files.deleteIfExists(spool);
                } catch (IOException ignored) {
                    // a leftover private temp file is removed with the temp dir
                }
            }
        }
    }
}
