package dev.siteward.gateway.backup;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The encrypted container of a backup: a passphrase-derived key (PBKDF2-HMAC-SHA256, 600,000 iterations, random
 * salt) and AES-256-GCM over 1 MiB chunks, each with its own nonce (random 8-byte prefix + chunk counter) and the
 * chunk number and a last-chunk flag as associated data (the STREAM construction), so chunks cannot be reordered,
 * dropped, or the stream cut short without the decryption failing. Each chunk is authenticated before its bytes are
 * used, and memory stays at one chunk whatever the backup's size.
 *
 * <p>Layout: {@code "SWBACKUP1\n"}, salt (16), iterations (int), nonce prefix (8), then chunks: length (int) and
 * ciphertext with its 16-byte tag.
 */
public final class BackupArchive {

    static final byte[] MAGIC = "SWBACKUP1\n".getBytes(StandardCharsets.US_ASCII);
    static final int CHUNK = 1 << 20;
    static final int ITERATIONS = 600_000;
    private static final int TAG_BITS = 128;

    private BackupArchive() {
    }

    /** Thrown when the passphrase is wrong or the file was changed, cut short or is not a backup. */
    public static final class IntegrityException extends IOException {
        IntegrityException(String message) {
            super(message);
        }
    }

    static SecretKey key(char[] passphrase, byte[] salt, int iterations) throws GeneralSecurityException {
        SecretKeyFactory f = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
        byte[] k = f.generateSecret(new PBEKeySpec(passphrase, salt, iterations, 256)).getEncoded();
        return new SecretKeySpec(k, "AES");
    }

    /** An output stream that encrypts everything written to it into {@code sink}; close to finish. */
    public static OutputStream encrypting(OutputStream sink, char[] passphrase) throws IOException {
        try {
            SecureRandom random = new SecureRandom();
            byte[] salt = new byte[16];
            byte[] prefix = new byte[8];
            random.nextBytes(salt);
            random.nextBytes(prefix);
            DataOutputStream out = new DataOutputStream(sink);
            out.write(MAGIC);
            out.write(salt);
            out.writeInt(ITERATIONS);
            out.write(prefix);
            return new Sealer(out, key(passphrase, salt, ITERATIONS), prefix);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up backup encryption: " + e.getMessage(), e);
        }
    }

    /** An input stream of the plaintext; fails with {@link IntegrityException} on any change or truncation. */
    public static InputStream decrypting(InputStream source, char[] passphrase) throws IOException {
        DataInputStream in = new DataInputStream(source);
        byte[] magic = new byte[MAGIC.length];
        try {
            in.readFully(magic);
        } catch (EOFException e) {
            throw new IntegrityException("not a Siteward backup (too short)");
        }
        if (!Arrays.equals(magic, MAGIC)) {
            throw new IntegrityException("not a Siteward backup (unknown format)");
        }
        byte[] salt = new byte[16];
        byte[] prefix = new byte[8];
        in.readFully(salt);
        int iterations = in.readInt();
        in.readFully(prefix);
        if (iterations < 100_000 || iterations > 10_000_000) {
            throw new IntegrityException("not a Siteward backup (bad key derivation parameters)");
        }
        try {
            return new Opener(in, key(passphrase, salt, iterations), prefix);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up backup decryption: " + e.getMessage(), e);
        }
    }

    private static byte[] nonce(byte[] prefix, long counter) {
        return ByteBuffer.allocate(12).put(prefix, 0, 8).putInt((int) counter).array();
    }

    private static byte[] aad(long counter, boolean last) {
        return ByteBuffer.allocate(9).putLong(counter).put((byte) (last ? 1 : 0)).array();
    }

    private static final class Sealer extends OutputStream {
        private final DataOutputStream out;
        private final SecretKey key;
        private final byte[] prefix;
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(CHUNK);
        private long counter;
        private boolean closed;

        Sealer(DataOutputStream out, SecretKey key, byte[] prefix) {
            this.out = out;
            this.key = key;
            this.prefix = prefix;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                int n = Math.min(len, CHUNK - buffer.size());
                buffer.write(b, off, n);
                off += n;
                len -= n;
                if (buffer.size() == CHUNK) {
                    seal(false);
                }
            }
        }

        private void seal(boolean last) throws IOException {
            try {
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce(prefix, counter)));
                c.updateAAD(aad(counter, last));
                byte[] sealed = c.doFinal(buffer.toByteArray());
                out.writeInt(sealed.length);
                out.write(sealed);
                buffer.reset();
                counter++;
            } catch (GeneralSecurityException e) {
                throw new IOException("backup encryption failed: " + e.getMessage(), e);
            }
        }

        @Override
        public void close() throws IOException {
            if (!closed) {
                closed = true;
                seal(true);
                out.flush();
            }
        }
    }

    private static final class Opener extends InputStream {
        private final DataInputStream in;
        private final SecretKey key;
        private final byte[] prefix;
        private byte[] plain = new byte[0];
        private int pos;
        private long counter;
        private boolean last;

        Opener(DataInputStream in, SecretKey key, byte[] prefix) {
            this.in = in;
            this.key = key;
            this.prefix = prefix;
        }

        private boolean fill() throws IOException {
            while (pos == plain.length) {
                if (last) {
                    return false;
                }
                int len;
                try {
                    len = in.readInt();
                } catch (EOFException e) {
                    throw new IntegrityException("the backup is cut short");
                }
                if (len < 16 || len > CHUNK + 16) {
                    throw new IntegrityException("the backup is damaged (bad chunk length)");
                }
                byte[] sealed = new byte[len];
                try {
                    in.readFully(sealed);
                } catch (EOFException e) {
                    throw new IntegrityException("the backup is cut short");
                }
                plain = open(sealed);
                pos = 0;
                counter++;
                if (last && in.read() != -1) {
                    throw new IntegrityException("the backup has data after its last chunk");
                }
            }
            return true;
        }

        private byte[] open(byte[] sealed) throws IOException {
            for (boolean isLast : new boolean[] {false, true}) {
                try {
                    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                    c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce(prefix, counter)));
                    c.updateAAD(aad(counter, isLast));
                    byte[] p = c.doFinal(sealed);
                    last = isLast;
                    return p;
                } catch (AEADBadTagException e) {
                    // try the other flag; both failing means a wrong passphrase or changed bytes
                } catch (GeneralSecurityException e) {
                    throw new IOException("backup decryption failed: " + e.getMessage(), e);
                }
            }
            throw new IntegrityException(counter == 0 ? "wrong passphrase, or the backup was changed"
                    : "the backup was changed (chunk " + counter + " does not authenticate)");
        }

        @Override
        public int read() throws IOException {
            if (!fill()) {
                return -1;
            }
            return plain[pos++] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (!fill()) {
                return -1;
            }
            int n = Math.min(len, plain.length - pos);
            System.arraycopy(plain, pos, b, off, n);
            pos += n;
            return n;
        }

        /** Fails unless the stream ended exactly at its last chunk. */
        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
