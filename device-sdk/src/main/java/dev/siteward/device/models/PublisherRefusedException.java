package dev.siteward.device.models;

import java.util.EnumSet;

/** A model signature that does not verify, or whose publisher the pinned trust document does not allow for the name. */
public final class PublisherRefusedException extends ModelSecurityException {

    private static final long serialVersionUID = 1L;

    PublisherRefusedException(RefusalCode code, String message) {
        super(code, message, EnumSet.of(RefusalCode.MODEL_BAD_SIGNATURE, RefusalCode.MODEL_UNTRUSTED_PUBLISHER));
    }
}
