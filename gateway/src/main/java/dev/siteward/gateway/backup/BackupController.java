package dev.siteward.gateway.backup;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.server.RequestContext;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.server.types.files.StreamedFile;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/admin/backup {"passphrase"}} (bootstrap admin only): streams an encrypted backup of the running
 * gateway ({@code siteward backup} while serving). The CLI verifies the whole stream before it keeps the file, so a
 * backup cut short by a failure here is never mistaken for a good one.
 */
@Controller("/v1/admin/backup")
@ExecuteOn(TaskExecutors.BLOCKING)
public class BackupController {

    private static final Logger LOG = LoggerFactory.getLogger(BackupController.class);

    private final BackupService backups;

    public BackupController(BackupService backups) {
        this.backups = backups;
    }

    /** Body of the backup request. */
    public record BackupRequest(String passphrase) {
    }

    @Post
    public HttpResponse<StreamedFile> backup(HttpRequest<?> request, @Body BackupRequest body)
            throws GatewayException, IOException, dev.siteward.gateway.store.StoreException {
        String by = RequestContext.admin(request).name();
        if (body == null || body.passphrase() == null || body.passphrase().length() < 12) {
            throw new GatewayException(Reason.BAD_REQUEST, "a backup passphrase of at least 12 characters is "
                    + "required");
        }
        // the snapshot is taken before answering, so a refusal (PostgreSQL, a damaged model repository) is a
        // proper error response rather than a cut-short stream
        BackupService.Snapshot snapshot = backups.snapshot();
        char[] passphrase = body.passphrase().toCharArray();
        PipedInputStream in = new PipedInputStream(1 << 16);
        PipedOutputStream out = new PipedOutputStream(in);
        Thread writer = new Thread(() -> {
            try (snapshot; out) {
                BackupService.write(snapshot, out, passphrase);
                LOG.info("backup for {}: {} files", by, snapshot.manifest().files().size());
            } catch (Exception e) {
                LOG.warn("backup for {} failed: {}", by, e.toString());
            }
        }, "siteward-backup");
        writer.setDaemon(true);
        writer.start();
        return HttpResponse.ok(new StreamedFile(in, MediaType.APPLICATION_OCTET_STREAM_TYPE));
    }
}
