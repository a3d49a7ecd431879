package dev.siteward.gateway.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The encrypted container: round trip over several chunks; any change, cut or wrong passphrase fails. */
class BackupArchiveTest {

    static final char[] PASS = "correct horse battery".toCharArray();
    static byte[] plain;
    static byte[] sealed;

    @BeforeAll
    static void seal() throws IOException {
        plain = new byte[BackupArchive.CHUNK * 2 + 12345];
        new Random(7).nextBytes(plain);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = BackupArchive.encrypting(bytes, PASS)) {
            out.write(plain, 0, 1000);
            out.write(plain, 1000, plain.length - 1000);
        }
        sealed = bytes.toByteArray();
    }

    private static byte[] open(byte[] data, char[] pass) throws IOException {
        try (InputStream in = BackupArchive.decrypting(new ByteArrayInputStream(data), pass)) {
            return in.readAllBytes();
        }
    }

    @Test
    void whatIsSealedOpensWithThePassphrase() throws IOException {
        assertArrayEquals(plain, open(sealed, PASS));
    }

    @Test
    void aWrongPassphraseIsRefused() {
        assertThrows(BackupArchive.IntegrityException.class, () -> open(sealed, "wrong passphrase!".toCharArray()));
    }

    @Test
    void aFlippedByteAnywhereIsRefused() {
        int header = BackupArchive.MAGIC.length + 16 + 4 + 8;
        for (int at : new int[] {header + 4 + 10, header + 4 + BackupArchive.CHUNK + 16 + 4 + 99, sealed.length - 1,
                BackupArchive.MAGIC.length + 3}) {
            byte[] bad = sealed.clone();
            bad[at] ^= 1;
            assertThrows(IOException.class, () -> open(bad, PASS), "flipped byte at " + at);
        }
    }

    @Test
    void aBackupCutShortEvenAtAChunkBoundaryIsRefused() {
        int header = BackupArchive.MAGIC.length + 16 + 4 + 8;
        int firstChunkEnd = header + 4 + BackupArchive.CHUNK + 16;
        assertThrows(BackupArchive.IntegrityException.class, () -> open(Arrays.copyOf(sealed, firstChunkEnd), PASS));
        assertThrows(BackupArchive.IntegrityException.class, () -> open(Arrays.copyOf(sealed, sealed.length - 5),
                PASS));
        byte[] longer = Arrays.copyOf(sealed, sealed.length + 3);
        assertThrows(BackupArchive.IntegrityException.class, () -> open(longer, PASS));
        assertThrows(BackupArchive.IntegrityException.class, () -> open("not a backup".getBytes(), PASS));
    }
}
