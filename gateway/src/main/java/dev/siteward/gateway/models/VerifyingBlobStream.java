package dev.siteward.gateway.models;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Streams bytes {@code [first, last]} of a blob while hashing the whole file: the bytes before the range are read
 * and hashed first, the range is hashed as it is served, and its final chunk is held back until the rest of the file
 * has been hashed. If the file's SHA-256 or size is no longer the recorded one (changed on disk after publish), the
 * final chunk is never sent: {@code onCorrupt} runs and {@link #read} throws, which cuts the response short.
 */
final class VerifyingBlobStream extends InputStream {

    static final int CHUNK = 256 * 1024;

    private final FileChannel channel;
    private final long first;
    private final long last;
    private final long expectedSize;
    private final String expectedSha256;
    private final Runnable onCorrupt;
    private final MessageDigest sha = BlobStore.sha256();
    private final ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
    private long position;
    private byte[] out = new byte[0];
    private int outPos;
    private boolean done;

    VerifyingBlobStream(Path file, long first, long last, long expectedSize, String expectedSha256,
                        Runnable onCorrupt) throws IOException {
        this.channel = FileChannel.open(file, StandardOpenOption.READ);
        this.first = first;
        this.last = last;
        this.expectedSize = expectedSize;
        this.expectedSha256 = expectedSha256;
        this.onCorrupt = onCorrupt;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (outPos >= out.length) {
            if (done) {
                return -1;
            }
            fill();
        }
        int n = Math.min(len, out.length - outPos);
        System.arraycopy(out, outPos, b, off, n);
        outPos += n;
        return n;
    }

    /**
     * Returns the next chunk of the range (up to {@value #CHUNK} bytes; the last one only after the whole file was
     * verified), or null at the end; throws when the file no longer matches.
     */
    byte[] nextChunk() throws IOException {
        if (outPos < out.length) {
            byte[] rest = java.util.Arrays.copyOfRange(out, outPos, out.length);
            outPos = out.length;
            return rest;
        }
        while (!done) {
            fill();
            if (out.length > 0) {
                outPos = out.length;
                return out;
            }
        }
        return null;
    }

    /** Produces the next chunk of the range (verified to the end of the file if it is the range's last). */
    private void fill() throws IOException {
        while (position < first) {
            int n = readChunk(first - position);
            if (n < 0) {
                corrupt();
            }
        }
        long want = last + 1 - position;
        if (want <= 0) {
            done = true;
            out = new byte[0];
            outPos = 0;
            return;
        }
        int n = readChunk(want);
        if (n < 0) {
            corrupt();
        }
        byte[] chunk = new byte[n];
        buffer.flip();
        buffer.get(chunk);
        if (position == last + 1) {
            while (readChunk(Long.MAX_VALUE) >= 0) {
                // hash the rest of the file
            }
            if (position != expectedSize || !HexFormat.of().formatHex(sha.digest()).equals(expectedSha256)) {
                corrupt();
            }
            done = true;
        }
        out = chunk;
        outPos = 0;
    }

    /** Reads up to {@code max} bytes into the buffer and hashes them; -1 at the end of the file. */
    private int readChunk(long max) throws IOException {
        buffer.clear();
        if (max < buffer.capacity()) {
            buffer.limit((int) max);
        }
        int n = channel.read(buffer);
        if (n < 0) {
            return -1;
        }
        sha.update(buffer.array(), 0, n);
        position += n;
        return n;
    }

    private void corrupt() throws IOException {
        done = true;
        onCorrupt.run();
        throw new IOException("blob " + expectedSha256 + " changed on disk; response cut short");
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
