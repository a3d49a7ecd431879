package dev.siteward.gateway.audit;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;

/**
 * One stored audit record. Its hash is SHA-256 over the canonical encoding (docs/audit.md): for each of the
 * fields {@code "siteward-audit-record/1"}, seq (decimal), time ({@link #formatTime}), type, actor, subject,
 * details (the stored JSON text) and prevHash (lower-case hex), the field's UTF-8 length as a 4-byte big-endian
 * integer followed by its UTF-8 bytes. The result is written in lower-case hex.
 */
public record AuditRecord(long seq, Instant time, String type, String actor, String subject, String details,
                          String prevHash, String hash) {

    public static final String VERSION = "siteward-audit-record/1";
    /** The previous hash of record 1. */
    public static final String GENESIS = "0".repeat(64);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    /** A new record with its hash computed; the time is truncated to milliseconds (what both databases keep). */
    public static AuditRecord create(long seq, Instant time, String type, String actor, String subject,
                                     String details, String prevHash) {
        Instant t = time.truncatedTo(ChronoUnit.MILLIS);
        return new AuditRecord(seq, t, type, actor, subject, details, prevHash,
                computeHash(seq, t, type, actor, subject, details, prevHash));
    }

    /** The hash this record's content yields (equal to {@link #hash()} unless the record was altered). */
    public String computedHash() {
        return computeHash(seq, time, type, actor, subject, details, prevHash);
    }

    /** The hash the content would yield at another position (used to tell a moved record from a changed one). */
    String computedHashAt(long otherSeq) {
        return computeHash(otherSeq, time, type, actor, subject, details, prevHash);
    }

    public static String formatTime(Instant time) {
        return TIME.format(time.truncatedTo(ChronoUnit.MILLIS));
    }

    static String computeHash(long seq, Instant time, String type, String actor, String subject, String details,
                              String prevHash) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + details.length());
        for (String field : new String[] {VERSION, Long.toString(seq), formatTime(time), type, actor, subject,
                details, prevHash}) {
            byte[] b = field.getBytes(StandardCharsets.UTF_8);
            out.write(b.length >>> 24);
            out.write(b.length >>> 16);
            out.write(b.length >>> 8);
            out.write(b.length);
            out.writeBytes(b);
        }
        return HexFormat.of().formatHex(sha256(out.toByteArray()));
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
