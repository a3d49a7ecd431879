package dev.siteward.device.models;

import java.util.EnumSet;

/** A lower model version that no fresh metadata directs, or a version its publisher withdrew. */
public final class VersionRefusedException extends ModelSecurityException {

    private static final long serialVersionUID = 1L;

    VersionRefusedException(RefusalCode code, String message) {
        super(code, message, EnumSet.of(RefusalCode.MODEL_ROLLBACK_REFUSED, RefusalCode.MODEL_WITHDRAWN));
    }
}
