package dev.siteward.device.models;

import java.util.Set;

/**
 * A model release the device refused for a security reason: bad or untrusted signature, bytes that differ from what
 * was signed and released, stale or replayed metadata, a forbidden downgrade. Never retried with the same bytes;
 * reported to the gateway; the installed model stays as it was. The subclasses group the codes by what was wrong.
 */
public abstract sealed class ModelSecurityException extends Exception
        permits MetadataRefusedException, StaleMetadataException, PublisherRefusedException,
        ContentRefusedException, VersionRefusedException {

    private static final long serialVersionUID = 1L;

    private final RefusalCode code;

    ModelSecurityException(RefusalCode code, String message, Set<RefusalCode> allowed) {
        super(message);
        if (!allowed.contains(code)) {
            throw new IllegalArgumentException(code + " is not a " + getClass().getSimpleName());
        }
        this.code = code;
    }

    /** The stable refusal code. */
    public RefusalCode code() {
        return code;
    }
}
