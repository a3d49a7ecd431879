package dev.siteward.gateway.backup;

import java.time.Instant;
import java.util.List;

/**
 * What a backup holds, written first inside the encrypted archive: every file with its size and SHA-256, and what
 * identifies the site and the backup's age.
 *
 * @param format             {@code siteward-backup-1}
 * @param createdAt          when the snapshot was taken (the gateway's clock)
 * @param trustDomain        the site's trust domain
 * @param rootFingerprint    the site root's fingerprint ({@code sha256:...})
 * @param latestRecordedTime the latest time the gateway had recorded (trusted time), or null
 * @param certificates       how many certificates the CA registry held
 * @param files              the files, paths relative to the data dir
 */
public record BackupManifest(String format, Instant createdAt, String trustDomain, String rootFingerprint,
                             Instant latestRecordedTime, int certificates, List<FileEntry> files) {

    public static final String FORMAT = "siteward-backup-1";

    /** One file: path relative to the data dir, size, SHA-256 (hex), and whether it is secret (restored 0600). */
    public record FileEntry(String path, long size, String sha256, boolean secret) {
    }
}
