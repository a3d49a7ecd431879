package dev.siteward.gateway.retention;

import java.time.Duration;

/**
 * The gateway's own retention limits ({@code siteward.retention.*}).
 *
 * @param purgeBatch     records deleted per transaction (short transactions keep writers flowing)
 * @param maxBlobBytes   the largest blob accepted, whatever a rule says ({@code max-blob-bytes}, default 8 MiB, the default upload burst of a device)
 * @param maxRecordBytes the largest minimised JSON record accepted
 * @param purgeInterval  how often the purge job runs
 */
public record RetentionSettings(int purgeBatch, long maxBlobBytes, long maxRecordBytes, Duration purgeInterval) {

    public static final int DEFAULT_PURGE_BATCH = 1000;
    public static final long DEFAULT_MAX_BLOB_BYTES = 64L << 20;
    /** The largest {@code max-blob-bytes} accepted: well inside what H2 and PostgreSQL store in one value. */
    public static final long MAX_BLOB_BYTES_CEILING = 512L << 20;
    public static final long DEFAULT_MAX_RECORD_BYTES = 64L << 10;
    public static final Duration DEFAULT_PURGE_INTERVAL = Duration.ofMinutes(10);

    public RetentionSettings {
        if (purgeBatch < 1 || purgeBatch > 100_000) {
            throw new IllegalArgumentException("siteward.retention.purge-batch must be 1..100000");
        }
        if (maxBlobBytes < 1 || maxRecordBytes < 1) {
            throw new IllegalArgumentException("siteward.retention size limits must be positive");
        }
        if (maxBlobBytes > MAX_BLOB_BYTES_CEILING) {
            throw new IllegalArgumentException("siteward.retention.max-blob-bytes must be at most "
                    + MAX_BLOB_BYTES_CEILING + " (512 MiB)");
        }
        if (purgeInterval.isNegative() || purgeInterval.isZero()) {
            throw new IllegalArgumentException("siteward.retention.purge-interval must be positive");
        }
    }

    public static RetentionSettings defaults() {
        return new RetentionSettings(DEFAULT_PURGE_BATCH, DEFAULT_MAX_BLOB_BYTES, DEFAULT_MAX_RECORD_BYTES,
                DEFAULT_PURGE_INTERVAL);
    }
}
