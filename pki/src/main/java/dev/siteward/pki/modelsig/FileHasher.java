package dev.siteward.pki.modelsig;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Streams files through SHA-256.
 *
 * <p>Uses the JDK's {@code MessageDigest} (its SHA-256 uses the CPU's SHA instructions; BouncyCastle's is about 8x
 * slower) fed from a {@link FileChannel} into a direct buffer, so each chunk is copied once from the page cache.
 * A file is never loaded whole into memory.
 */
final class FileHasher {

    /** Read size; large enough that system-call overhead is negligible, small enough to stay in L2/L3. */
    static final int BUFFER_SIZE = 1 << 20;

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

    /** Returns SHA-256 of the file's content, read streaming. */
    static byte[] sha256(Path file) throws IOException {
        MessageDigest md = sha256();
        ByteBuffer buffer = BUFFERS.get();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            while (true) {
                buffer.clear();
                int n = channel.read(buffer);
                if (n < 0) {
                    break;
                }
                buffer.flip();
                md.update(buffer);
            }
        }
        return md.digest();
    }
}
