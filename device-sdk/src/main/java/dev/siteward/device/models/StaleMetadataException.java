package dev.siteward.device.models;

import java.util.EnumSet;

/** Metadata older than what the device accepted already (a replay), or past its expiry (a freeze). */
public final class StaleMetadataException extends ModelSecurityException {

    private static final long serialVersionUID = 1L;

    StaleMetadataException(RefusalCode code, String message) {
        super(code, message, EnumSet.of(RefusalCode.METADATA_REPLAYED, RefusalCode.METADATA_EXPIRED));
    }
}
