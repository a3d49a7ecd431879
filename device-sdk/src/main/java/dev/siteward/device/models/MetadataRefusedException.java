package dev.siteward.device.models;

import java.util.EnumSet;

/** Release or trust metadata that is not the site's, not for this device, or inconsistent in itself. */
public final class MetadataRefusedException extends ModelSecurityException {

    private static final long serialVersionUID = 1L;

    MetadataRefusedException(RefusalCode code, String message) {
        super(code, message, EnumSet.of(RefusalCode.METADATA_BAD_SIGNATURE, RefusalCode.METADATA_WRONG_DEVICE, RefusalCode.METADATA_MIX_AND_MATCH));
    }
}
