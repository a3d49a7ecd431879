package dev.siteward.pki.modelsig;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Streams files through SHA-256.
 *
 * <p>Uses the JDK's {@code MessageDigest} (its SHA-256 uses the CPU's SHA instructions; BouncyCastle's is about 8x
 * slower) fed from a {@link FileChannel} into direct buffers, so each chunk is copied once from the page cache. Files
 * of {@value #PIPELINE_THRESHOLD} bytes or more are read by a second thread into a ring of {@value #RING} buffers
 * while the calling thread hashes, hiding the read copy behind the hashing (measured in {@code docs/benchmarks.md}).
 * A file is never loaded whole into memory.
 */
final class FileHasher {

    /** Read size; large enough that system-call overhead is negligible, small enough to stay in the caches. */
    static final int BUFFER_SIZE = 1 << 20;

    /** Files at least this large are read on a second thread while hashing. */
    static final long PIPELINE_THRESHOLD = 16L << 20;

    /** Buffers in flight between the reader thread and the hashing thread. */
    static final int RING = 4;

    private static final ThreadLocal<ByteBuffer> BUFFERS =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(BUFFER_SIZE));

    private FileHasher() {
    }

    /** Returns a new SHA-256 digest from the JDK's provider. */
    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is mandatory in every JDK", e);
        }
    }

    /** Returns SHA-256 of {@code bytes}. */
    static byte[] sha256(byte[] bytes) {
        return sha256().digest(bytes);
    }

    /** Returns SHA-256 of the file's content, read streaming to its end. */
    static byte[] sha256(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return channel.size() >= PIPELINE_THRESHOLD ? pipelined(channel, file) : sequential(channel);
        }
    }

    private static byte[] sequential(FileChannel channel) throws IOException {
        MessageDigest md = sha256();
        ByteBuffer buffer = BUFFERS.get();
        while (true) {
            buffer.clear();
            if (channel.read(buffer) < 0) {
                break;
            }
            buffer.flip();
            md.update(buffer);
        }
        return md.digest();
    }

    private static byte[] pipelined(FileChannel channel, Path file) throws IOException {
        MessageDigest md = sha256();
        BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(RING);
        BlockingQueue<ByteBuffer> full = new ArrayBlockingQueue<>(RING + 1);
        for (int i = 0; i < RING; i++) {
            free.add(ByteBuffer.allocateDirect(BUFFER_SIZE));
        }
        ByteBuffer end = ByteBuffer.allocate(0);
        AtomicReference<IOException> failure = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            try {
                while (true) {
                    ByteBuffer b = free.take();
                    b.clear();
                    if (channel.read(b) < 0) {
                        break;
                    }
                    b.flip();
                    full.put(b);
                }
            } catch (IOException e) {
                failure.set(e);
            } catch (InterruptedException e) {
                failure.set(new InterruptedIOException("reading " + file + " was interrupted"));
            } finally {
                full.offer(end);
            }
        }, "modelsig-reader");
        reader.setDaemon(true);
        reader.start();
        try {
            while (true) {
                ByteBuffer b = full.take();
                if (b == end) {
                    break;
                }
                md.update(b);
                free.put(b);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("hashing " + file + " was interrupted");
        } finally {
            reader.interrupt();
            try {
                reader.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        return md.digest();
    }
}
