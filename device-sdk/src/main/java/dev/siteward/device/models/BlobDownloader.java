package dev.siteward.device.models;

import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceException.Reason;
import dev.siteward.device.RetryPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Downloads a blob by its digest into {@code .downloads/<sha256>.part} with resume: a partial file left by an
 * interrupted download is continued with an HTTP Range request (RFC 9110 section 14.2); a broken connection is a
 * transport failure, retried per the {@link RetryPolicy} from where it stopped. A complete answer whose bytes differ
 * from the metadata — shorter (truncated), longer, or with another SHA-256 — is a security failure
 * ({@code model.digest_mismatch}): the partial file is deleted and the same bytes are never fetched again in this run.
 */
final class BlobDownloader {

    private static final int BUFFER = 1 << 16;
    /** A body that delivers no byte for this long is abandoned (a transport failure; the next attempt resumes). */
    static final Duration DEFAULT_STALL_TIMEOUT = Duration.ofSeconds(30);
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "siteward-download-watchdog");
        t.setDaemon(true);
        return t;
    });

    private final ModelGateway gateway;
    private final RetryPolicy retry;
    private final Path downloads;
    private final Duration stallTimeout;

    BlobDownloader(ModelGateway gateway, RetryPolicy retry, Path downloads, Duration stallTimeout) {
        this.gateway = gateway;
        this.retry = retry;
        this.downloads = downloads;
        this.stallTimeout = stallTimeout;
    }

    /** Returns the path of the complete, digest-checked blob. */
    Path download(ReleaseMetadata.Blob blob, String what) throws DeviceException, ContentRefusedException {
        Path part = downloads.resolve(blob.sha256() + ".part");
        ContentRefusedException[] refused = new ContentRefusedException[1];
        long[] lastCut = {-1};
        retry.run(() -> {
            try {
                attempt(blob, part, what, lastCut);
                return null;
            } catch (ContentRefusedException e) {
                refused[0] = e;
                return null;
            }
        });
        if (refused[0] != null) {
            throw refused[0];
        }
        String actual = sha256(part);
        if (!actual.equals(blob.sha256())) {
            delete(part);
            throw refuse(what + ": SHA-256 " + actual + " differs from the released " + blob.sha256());
        }
        return part;
    }

    /**
     * One attempt from where the partial file ends. {@code lastCut} holds the byte at which the previous attempt's
     * body broke off (or -1): a body that breaks off again at the same byte, without a stall, is the gateway cutting
     * the response short on purpose (a blob that no longer matches on its disk, docs/model-releases.md) rather than a
     * flaky link, and is refused as a digest mismatch.
     */
    private void attempt(ReleaseMetadata.Blob blob, Path part, String what, long[] lastCut)
            throws DeviceException, ContentRefusedException {
        long have;
        try {
            have = Files.exists(part) ? Files.size(part) : 0;
            if (have > blob.size()) {
                Files.delete(part);
                have = 0;
            }
        } catch (IOException e) {
            throw ModelStore.storage("cannot read " + part, e);
        }
        if (have == blob.size() && have > 0) {
            return;
        }
        ModelGateway.BlobBody opened;
        try {
            opened = gateway.blob(blob.sha256(), have);
        } catch (DeviceException e) {
            if (e.gatewayCode().filter("model.blob_corrupt"::equals).isPresent()) {
                // the gateway itself found that its copy no longer matches the digest
                delete(part);
                throw refuse(what + ": the gateway's copy of " + blob.sha256() + " no longer matches its digest ("
                        + e.getMessage() + ")");
            }
            if (have > 0 && lastCut[0] == have && e.reason() == Reason.UNREACHABLE && e.getCause() == null) {
                // the body broke off at this byte, and asked for the rest the gateway answers a server error
                // instead: it is withholding the end of a blob that no longer matches (it answers before any byte)
                delete(part);
                throw refuse(what + ": the gateway cut the body off at byte " + have + " of " + blob.size()
                        + " and then refused the rest (" + e.getMessage() + ")");
            }
            throw e;
        }
        try (ModelGateway.BlobBody body = opened;
             FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            long pos = body.offset();
            out.truncate(pos);
            out.position(pos);
            InputStream in = body.body();
            byte[] buf = new byte[BUFFER];
            // the JDK client has no read timeout for a body: a watchdog interrupts a read that makes no progress
            Thread reader = Thread.currentThread();
            AtomicLong lastProgress = new AtomicLong(System.nanoTime());
            AtomicBoolean stalled = new AtomicBoolean();
            long tick = Math.max(10, Math.min(1000, stallTimeout.toMillis() / 4));
            ScheduledFuture<?> watchdog = WATCHDOG.scheduleWithFixedDelay(() -> {
                if (System.nanoTime() - lastProgress.get() > stallTimeout.toNanos() && stalled.compareAndSet(false,
                        true)) {
                    reader.interrupt();
                }
            }, tick, tick, TimeUnit.MILLISECONDS);
            try {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    lastProgress.set(System.nanoTime());
                    if (pos + n > blob.size()) {
                        out.close();
                        delete(part);
                        throw refuse(what + ": the gateway sent more than the released " + blob.size() + " bytes");
                    }
                    ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                    while (bb.hasRemaining()) {
                        out.write(bb);
                    }
                    pos += n;
                }
            } catch (IOException e) {
                out.force(false);
                if (!stalled.get() && lastCut[0] == pos) {
                    out.close();
                    delete(part);
                    throw refuse(what + ": the gateway cut the body off at byte " + pos + " of " + blob.size()
                            + " again (a blob that changed on the gateway is never served whole)");
                }
                lastCut[0] = stalled.get() ? -1 : pos;
                throw new DeviceException(Reason.UNREACHABLE, what + ": download interrupted at byte " + pos
                        + " of " + blob.size() + " (" + (stalled.get() ? "no data for " + stallTimeout.toSeconds()
                        + " s" : e.getMessage()) + "); it resumes from there", e);
            } finally {
                watchdog.cancel(false);
                if (stalled.get()) {
                    Thread.interrupted();
                }
            }
            out.force(false);
            if (pos < blob.size()) {
                out.close();
                delete(part);
                throw refuse(what + ": truncated: the gateway's answer ended at byte " + pos + " of "
                        + blob.size());
            }
        } catch (IOException e) {
            throw ModelStore.storage("cannot write " + part, e);
        }
    }

    static String sha256(Path file) throws DeviceException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            while (ch.read(buf) >= 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw ModelStore.storage("cannot read " + file, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void delete(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // left for the next run, which truncates or replaces it
        }
    }

    private static ContentRefusedException refuse(String message) {
        return (ContentRefusedException) RefusalCode.MODEL_DIGEST_MISMATCH.refuse(message);
    }
}
