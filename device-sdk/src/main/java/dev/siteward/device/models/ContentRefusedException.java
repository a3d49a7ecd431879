package dev.siteward.device.models;

import java.util.EnumSet;

/** Model bytes or files that differ from the metadata or the signature, or unsafe paths and symbolic links. */
public final class ContentRefusedException extends ModelSecurityException {

    private static final long serialVersionUID = 1L;

    ContentRefusedException(RefusalCode code, String message) {
        super(code, message, EnumSet.of(RefusalCode.MODEL_DIGEST_MISMATCH, RefusalCode.MODEL_FILES_MISMATCH, RefusalCode.MODEL_PATH_REFUSED));
    }
}
