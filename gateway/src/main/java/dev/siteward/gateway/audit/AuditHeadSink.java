package dev.siteward.gateway.audit;

import dev.siteward.pki.SecureFiles;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A copy of the signed head kept off the gateway host: a file (e.g. on a mounted remote volume, written atomically)
 * or an HTTPS endpoint receiving {@code PUT} with the head JSON (server certificate checked against the JVM's
 * trust store). Pushes run on one background thread, newest head wins; a failure is logged and retried with the
 * next head, never blocking or failing an append.
 */
final class AuditHeadSink implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AuditHeadSink.class);

    private final String target;
    private final ExecutorService executor;
    private final AtomicReference<String> pending = new AtomicReference<>();
    private final HttpClient http;

    AuditHeadSink(String target) {
        if (!target.startsWith("https://") && target.contains("://")) {
            throw new IllegalArgumentException("siteward.audit.head-sink must be a file path or an https:// URL");
        }
        this.target = target;
        this.http = target.startsWith("https://")
                ? HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build() : null;
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "audit-head-sink");
            t.setDaemon(true);
            return t;
        });
    }

    void push(String headJson) {
        if (pending.getAndSet(headJson) == null) {
            executor.execute(this::drain);
        }
    }

    private void drain() {
        String json = pending.getAndSet(null);
        if (json == null) {
            return;
        }
        try {
            if (http != null) {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(target))
                        .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() >= 300) {
                    LOG.warn("audit head sink {} answered {}", target, r.statusCode());
                }
            } else {
                SecureFiles.writeAtomically(Path.of(target), json, false);
            }
        } catch (IOException e) {
            LOG.warn("cannot push the audit head to {}: {}", target, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        executor.shutdown();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
