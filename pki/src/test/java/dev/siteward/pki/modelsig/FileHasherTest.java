package dev.siteward.pki.modelsig;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Streaming SHA-256 gives the digest of the whole file on both the one-thread and the pipelined path. */
class FileHasherTest {

    @TempDir
    Path tmp;

    @Test
    void smallAndLargeFilesHashToTheDigestOfTheirBytes() throws Exception {
        SplittableRandom random = new SplittableRandom(1);
        for (long size : new long[] {0, 1, FileHasher.BUFFER_SIZE - 1, FileHasher.BUFFER_SIZE + 1,
                FileHasher.PIPELINE_THRESHOLD, FileHasher.PIPELINE_THRESHOLD + 12345}) {
            byte[] bytes = new byte[(int) size];
            random.nextBytes(bytes);
            Path file = Files.write(tmp.resolve("f" + size), bytes);
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(bytes), FileHasher.sha256(file),
                    "size " + size);
            Files.delete(file);
        }
    }

    @Test
    void aMissingFileIsAnIoError() {
        assertThrows(NoSuchFileException.class, () -> FileHasher.sha256(tmp.resolve("absent")));
    }
}
