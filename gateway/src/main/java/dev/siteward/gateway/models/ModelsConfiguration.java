package dev.siteward.gateway.models;

import io.micronaut.context.annotation.ConfigurationProperties;
import java.time.Duration;

/** Settings of the model release repository under {@code siteward.models.*}. */
@ConfigurationProperties(ModelsConfiguration.PREFIX)
public class ModelsConfiguration {

    public static final String PREFIX = "siteward.models";
    /** Validity of a device's release metadata: 7 days; re-signed when less than half is left. */
    public static final Duration DEFAULT_METADATA_VALIDITY = Duration.ofDays(7);
    /** Largest model file accepted by an upload: 64 GiB. */
    public static final long DEFAULT_MAX_FILE_SIZE = 64L << 30;

    private Duration metadataValidity = DEFAULT_METADATA_VALIDITY;
    private long maxFileSize = DEFAULT_MAX_FILE_SIZE;

    /** How long a device's release metadata is valid ({@code siteward.models.metadata-validity}). */
    public Duration getMetadataValidity() {
        return metadataValidity;
    }

    public void setMetadataValidity(Duration metadataValidity) {
        this.metadataValidity = metadataValidity;
    }

    /** Largest file an upload accepts, in bytes ({@code siteward.models.max-file-size}). */
    public long getMaxFileSize() {
        return maxFileSize;
    }

    public void setMaxFileSize(long maxFileSize) {
        this.maxFileSize = maxFileSize;
    }
}
